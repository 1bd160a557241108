"""Search: ``/registry/sync/search`` answers now; ``/registry/search`` acknowledges now and
POSTs the ``on-search`` answer to the caller's ``sender_uri`` from the job queue.

The asynchronous request is kept in the transaction row until the job has answered it (the
job's own arguments hold only that row's id: procrastinate logs job arguments, and a query
may hold DNIs), then only the per-item statuses stay.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlmodel.ext.asyncio.session import AsyncSession

from api.auth.agency import Agency, agency_reads, require_scope
from api.dci import envelope as env
from api.dci import query as q
from api.dci import transactions
from api.dci.records import search_item
from api.deps import SecretDep, SessionDep, StateDep
from privacy.roles import SCOPE_PERSON_READ
from rnu import jobs
from rnu.agency import repository, webhooks
from rnu.errors import InvalidInput
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
) -> JSON | JSONResponse:
    """Acknowledge now; the answer is POSTed to ``header.sender_uri`` + ``/on-search``."""
    envelope = await env.read_envelope(request)
    items = env.items_of(envelope.message, *REQUEST_KEYS)
    with env.refusing(envelope, "on-search", "search_response"):
        txn = env.transaction_id(envelope.message)
        env.check_header(envelope.header, ("search",), len(items))
        if not envelope.header.sender_uri:
            raise env.DciRejected("rjct.action.invalid", "header.sender_uri is required")
    try:
        target = await webhooks.check(
            callback_url(envelope.header.sender_uri, "on-search"),
            state.settings.webhook_policy(),
        )
    except InvalidInput as exc:
        raise env.DciHttpError(400, str(exc), "err.sender_uri.invalid") from exc
    correlation_id = str(uuid.uuid4())
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
            }
        },
    )
    row = await repository.get_transaction(session, client_id=agency.client_id, transaction_id=txn)
    assert row is not None
    assert row.id is not None
    await jobs.defer(session, jobs.TASK_DCI_SEARCH, {"transaction_row_id": row.id})
    return env.ack(correlation_id)


def callback_url(sender_uri: str, action: str) -> str:
    """The caller's callback endpoint: ``sender_uri`` as given, or ``…/registry/<action>``."""
    uri = sender_uri.rstrip("/")
    return uri if uri.endswith(action) else f"{uri}/registry/{action}"


def stored_request(summary: JSON) -> JSON | None:
    pending = summary.get("pending")
    return pending if isinstance(pending, dict) else None


def on_search_body(txn: str, correlation_id: str, receiver: str, answers: list[JSON]) -> bytes:
    status, total = env.item_status(answers)
    done = sum(1 for a in answers if a["status"] == "succ")
    header = env.callback_header(None, action="on-search", status=status, total=total, done=done)
    header["receiver_id"] = receiver
    body = env.reply(
        header,
        {"transaction_id": txn, "correlation_id": correlation_id, "search_response": answers},
    )
    return json.dumps(body).encode()
