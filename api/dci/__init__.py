"""DCI (SP Digital Convergence Initiative) IBR / registry API v1.0.0.

Modules: ``envelope`` (reading requests, headers, answers and the spec's error shapes),
``query`` (search criteria → typed queries), ``records`` (one search item answered through
the agency's policy), and one route module per family: ``search`` (sync and async search),
``enrolled`` (enrolled, enrollment updates, receipts), ``subscriptions``, ``txn``. The
asynchronous calls: ``callbacks`` (where RNU calls back, signed how, the pending callback
queued), ``quota`` (the asynchronous search's record reservation), ``worker`` (the jobs that
answer them). The mapping and the spec's defects: ``docs/dci.md``.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.dci import enrolled, search, subscriptions, txn

router = APIRouter()
for module in (search, enrolled, subscriptions, txn):
    router.include_router(module.router)
