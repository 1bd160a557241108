"""Locust entry point: it only picks scenarios (RNU_LOAD_PROFILE=mix|spike).

mix: citizens 70 %, roll browsing 20 %, statistics 5 %, reports 3 %, agency GraphQL 2 %.
spike: self-lookups only, back to back. Endpoints the server lacks are skipped with a note.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loadtests.scenarios.agency import AgencyBatch
from loadtests.scenarios.citizen import Citizen, SpikeCitizen
from loadtests.scenarios.common import available
from loadtests.scenarios.reports import Reporter
from loadtests.scenarios.rolls import RollBrowser
from loadtests.scenarios.stats import StatsReader

PROFILE = os.environ.get("RNU_LOAD_PROFILE", "mix")
NEEDS = {
    Citizen: "consulta",
    SpikeCitizen: "consulta",
    RollBrowser: "padrones",
    StatsReader: "estadisticas",
    Reporter: "reportes",
    AgencyBatch: "graphql",
}
CHOSEN = (
    [SpikeCitizen]
    if PROFILE == "spike"
    else [Citizen, RollBrowser, StatsReader, Reporter, AgencyBatch]
)

for _cls in list(NEEDS):
    if _cls not in CHOSEN:
        del globals()[_cls.__name__]
    elif not available(NEEDS[_cls]):
        print(f"note: the server has no {NEEDS[_cls]} endpoint; {_cls.__name__} is skipped")
        del globals()[_cls.__name__]
del _cls
