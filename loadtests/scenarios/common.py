"""What every scenario shares: the synthetic country's data and a per-visitor address.

``loadtests/run.py`` writes the data file (``RNU_LOAD_DATA``): real DNIs with their birth dates
from the synthetic PGH, roll slices that have entries, programs and periods, the endpoints the
server really has, and an agency key when one could be issued.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def data() -> dict[str, Any]:
    path = os.environ.get("RNU_LOAD_DATA")
    if not path:
        raise RuntimeError("set RNU_LOAD_DATA to the JSON file loadtests/run.py writes")
    with open(path, encoding="utf-8") as fh:
        loaded: dict[str, Any] = json.load(fh)
    return loaded


def available(endpoint: str) -> bool:
    return endpoint in data().get("available", [])


def address_for(seed: str) -> str:
    """A stable private address per visitor, sent as X-Forwarded-For.

    The server under test trusts 127.0.0.1 as a proxy, so each simulated citizen is limited as
    the separate person they are, not as one loopback client.
    """
    h = hashlib.blake2b(seed.encode(), digest_size=3).digest()
    return f"10.{h[0]}.{h[1]}.{h[2] or 1}"


def random_address() -> str:
    return address_for(str(random.random()))
