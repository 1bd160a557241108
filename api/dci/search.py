"""Search: ``/registry/sync/search`` answers now; ``/registry/search`` acknowledges now and
POSTs the ``on-search`` answer to the caller's ``sender_uri`` from the job queue.

The asynchronous request is kept in the transaction row until the job has answered it (the
job's own arguments hold only that row's id: procrastinate logs job arguments, and a query
may hold DNIs), then only the per-item statuses stay. Both are charged to the agency's
record quota by the people they return and bounded per call: the synchronous one inside the
request (``agency_reads``), the asynchronous one reserved at the ACK and settled by the job
(``api.dci.quota``).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlmodel.ext.asyncio.session import AsyncSession

from api.auth.agency import Agency, agency_reads, require_scope
from api.dci import callbacks, quota, transactions
from api.dci import envelope as env
from api.dci import query as q
from api.dci.records import search_item
from api.deps import SecretDep, SessionDep, StateDep
from api.ratelimit import limiter_for
from privacy.roles import SCOPE_PERSON_READ
from rnu import jobs
from rnu.agency import repository
from usecases.agency import AgencyReads

router = APIRouter(prefix="/registry", tags=["dci"], route_class=env.DciRoute)
CanReadPeople = Annotated[Agency, Depends(require_scope(SCOPE_PERSON_READ))]
AUDIT_ACTION = "dci.read"
REQUEST_KEYS = ("search_request",)
JSON = dict[str, Any]


async def answer(session: AsyncSession, reads: AgencyReads, items: list[JSON]) -> list[JSON]:
    """Every search item answered through the agency's policy; the reads audited once."""

    async def handle(item: JSON) -> JSON:
        return await search_item(session, reads, item)

    answers = await env.answer_items(items, handle, rejected_code="rjct.search_criteria.invalid")
    await reads.audit()
    return answers


def wanted_records(items: list[JSON]) -> int:
    """The most people these items can return: one per identifier, a page per expression."""
    total = 0
    for item in items:
        criteria = item.get("search_criteria")
        criteria = criteria if isinstance(criteria, dict) else {}
        if str(criteria.get("query_type", "")).lower() == "idtype-value":
            total += 1
            continue
        try:
            total += q.page(criteria).size
        except env.ItemRejected:
            continue  # refused before anyone is read
    return total


@router.post("/sync/search", response_model=None, openapi_extra=env.body_doc("SearchRequest"))
async def sync_search(
    request: Request,
    agency: CanReadPeople,
    session: SessionDep,
    secret: SecretDep,
    state: StateDep,
) -> JSON | JSONResponse:
    """Search people or households by identifier or by expression (CSE-SISFOH, place…)."""
    envelope = await env.read_envelope(request)
    items = env.items_of(envelope.message, *REQUEST_KEYS)
    with env.refusing(envelope, "on-search", "search_response"):
        txn = env.transaction_id(envelope.message)
        env.check_header(envelope.header, ("search",), len(items))
    # The agency's record quota is charged by the people returned, bounded per call across
    # items (api.auth.agency); an item past the bound is refused with too_many_records_found.
    wanted = wanted_records(items)
    async with agency_reads(
        state, agency, session, secret, action=AUDIT_ACTION, wanted=wanted
    ) as reads:
        answers = await answer(session, reads, items)
    return await transactions.answered(
        session,
        agency,
        envelope,
        txn=txn,
        kind="search",
        action="on-search",
        response_key="search_response",
        answers=answers,
    )


@router.post("/search", response_model=None, openapi_extra=env.body_doc("SearchRequest (async)"))
async def async_search(
    request: Request,
    agency: CanReadPeople,
    session: SessionDep,
    state: StateDep,
    secret: SecretDep,
) -> JSON | JSONResponse:
    """Acknowledge now; the answer is POSTed to ``header.sender_uri`` + ``/on-search``.

    The records the call may return are reserved on the agency's quota now (a 429 when they
    do not fit) and settled by the job (``api.dci.quota``).
    """
    envelope = await env.read_envelope(request)
    items = env.items_of(envelope.message, *REQUEST_KEYS)
    with env.refusing(envelope, "on-search", "search_response"):
        txn = env.transaction_id(envelope.message)
        env.check_header(envelope.header, ("search",), len(items))
        target = await callbacks.check_sender(state, envelope.header.sender_uri, "on-search")
    held = await quota.hold(state, agency, wanted_records(items))
    correlation_id = str(uuid.uuid4())
    try:
        await transactions.record(
            session,
            agency,
            envelope,
            txn=txn,
            kind="search",
            status="pdng",
            correlation_id=correlation_id,
            extra={
                "pending": {
                    "callback": target.url,
                    "purpose": agency.purpose,
                    "sender_id": envelope.header.sender_id,
                    "items": items,
                    "quota": held.to_json(),
                }
            },
        )
        row = await repository.get_transaction(
            session, client_id=agency.client_id, transaction_id=txn
        )
        assert row is not None
        assert row.id is not None
        await jobs.defer(session, jobs.TASK_DCI_SEARCH, {"transaction_row_id": row.id})
    except BaseException:
        await quota.settle(limiter_for(state), held, 0, same_process=True)
        raise
    return env.ack(
        correlation_id,
        callback_secret=callbacks.callback_secret(secret, agency.client_id, correlation_id),
    )


def on_search_message(
    txn: str, correlation_id: str, receiver: str, answers: list[JSON]
) -> tuple[JSON, JSON]:
    """The on-search callback's header and message (SearchResponse)."""
    status, total = env.item_status(answers)
    done = sum(1 for a in answers if a["status"] == "succ")
    header = callbacks.callback_header("on-search", receiver, status, total, done)
    message = {"transaction_id": txn, "correlation_id": correlation_id, "search_response": answers}
    return header, message
