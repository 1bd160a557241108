"""Keyed HMACs of identifiers, shared by the domain (audit rows) and privacy (masks, keys).

They live here, at the bottom, because ``rnu`` must compute the same ``dni_hmac`` that
``privacy`` does (an audit row written by a service is later found by the citizen's access
log through the HMAC the privacy layer derives) and ``rnu`` may not import ``privacy``.
"""

from __future__ import annotations

import hashlib
import hmac

# Purpose labels: the same secret and input give unrelated outputs per purpose.
ENTRY_LABEL = b"rnu/entry-id/v1\x00"
DNI_LABEL = b"rnu/dni-hmac/v1\x00"


def keyed(secret: bytes, label: bytes, message: str) -> bytes:
    """HMAC-SHA256 of ``label + message`` under ``secret``."""
    if not secret:
        # An empty key makes the HMAC a public hash: anyone could enumerate all DNIs.
        raise ValueError("a non-empty secret is required")
    # hmac.digest: the one-shot C path (same bytes as hmac.new(...).digest(), a few times faster)
    return hmac.digest(secret, label + message.encode("utf-8"), hashlib.sha256)


def dni_hmac(secret: bytes, dni: str) -> str:
    """Hex HMAC of a DNI, for cache keys, audit rows and logs that must never hold the DNI."""
    return keyed(secret, DNI_LABEL, dni.strip()).hex()
