"""Transaction status: what RNU answered to an earlier call of this agency.

The spec's ``txnstatus_request`` looks a transaction up by ``attribute_type``
``transaction_id``, ``correlation_id`` (the id RNU gave its answer) or ``reference_id_list``
(request items), and answers ``txn_status`` as a ``SearchResponse``: the items' reference
ids, statuses and reason codes (never the records again). An enrolment upload is ``pdng``
until its roll has loaded, then ``succ`` with the counts (``rjct`` if the load failed).
Only the asking agency's transactions are found.

``/registry/sync/txn/status`` answers now; ``/registry/txn/status`` acknowledges now and the
job queue POSTs the same ``TxnStatusResponse`` to ``sender_uri``'s ``/registry/txn/on-status``
(header action ``txn-on-status``), looked up when the job runs (``api.dci.worker``).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlmodel.ext.asyncio.session import AsyncSession

from api.auth.agency import AgencyDep
from api.dci import callbacks
from api.dci import envelope as env
from api.deps import SecretDep, SessionDep, StateDep
from rnu.agency import repository
from rnu.agency.models import DciTransaction

router = APIRouter(prefix="/registry", tags=["dci"], route_class=env.DciRoute)
JSON = dict[str, Any]
# The spec's txn_type enum is search | subscibe (sic) | receipt: RNU answers in it.
TXN_TYPES = {
    "subscribe": "subscibe",
    "subscibe": "subscibe",
    "receipt": "receipt",
    "notify": "receipt",
}
UPLOAD_STATUS = {"done": "succ", "failed": "rjct"}


async def _find(
    session: AsyncSession, client_id: int, kind: str, value: Any
) -> list[DciTransaction]:
    if kind == "transaction_id":
        found = await repository.get_transaction(
            session, client_id=client_id, transaction_id=str(value)[:100]
        )
        return [found] if found is not None else []
    if kind == "correlation_id":
        return await repository.find_transactions(
            session, client_id=client_id, correlation_id=str(value)[:100]
        )
    refs = [str(v)[:100] for v in (value if isinstance(value, list) else [value])][:100]
    return await repository.find_transactions(session, client_id=client_id, reference_ids=refs)


async def _upload_state(session: AsyncSession, found: DciTransaction) -> tuple[str, JSON]:
    if found.upload_id is None:
        return found.status, {}
    upload = await repository.get_upload(session, upload_id=found.upload_id)
    if upload is None:
        return found.status, {}
    extra = {"upload_status": upload.status, "counts": upload.counts, "rows_done": upload.rows_done}
    return UPLOAD_STATUS.get(upload.status, "pdng"), extra


async def status_of(
    session: AsyncSession, found: DciTransaction, refs: set[str] | None
) -> tuple[str, list[JSON], JSON]:
    """(overall status, the items as SearchResponse items, RNU's extra summary)."""
    state, extra = await _upload_state(session, found)
    summary = dict(found.summary)
    items = []
    for item in summary.get("items") or []:
        if refs is not None and str(item.get("reference_id")) not in refs:
            continue
        entry = dict(item)
        entry.setdefault("timestamp", found.created_at.isoformat())
        if found.upload_id is not None and entry.get("status") == "pdng":
            entry["status"] = state
        items.append(entry)
    return state, items, extra


async def status_message(
    session: AsyncSession, client_id: int, *, txn: str, correlation_id: str, ask: JSON
) -> JSON:
    """The TxnStatusResponse message answering ``ask`` (a ``txnstatus_request``)."""
    kind = str(ask.get("attribute_type") or "transaction_id").lower()
    value = ask.get("attribute_value", ask.get("transaction_id"))
    reference = str(ask.get("reference_id") or txn)[:99]
    txn_type = str(ask.get("txn_type") or "search").lower()
    if kind not in ("transaction_id", "correlation_id", "reference_id_list") or value in (None, ""):
        found = []
    else:
        found = await _find(session, client_id, kind, value)
    refs = (
        {str(v) for v in value} if kind == "reference_id_list" and isinstance(value, list) else None
    )
    if not found:
        txn_status: JSON = {
            "transaction_id": str(value if kind == "transaction_id" else "")[:99],
            "correlation_id": str(value if kind == "correlation_id" else "")[:99],
            "search_response": [
                env.rejected_item(
                    {"reference_id": reference, "timestamp": env.now()},
                    "rjct.reference_id.invalid",
                    "no transaction of this agency matches",
                )
            ],
            "status": "rjct",
        }
    else:
        first = found[0]
        state, items, extra = await status_of(session, first, refs)
        for other in found[1:]:
            items += (await status_of(session, other, refs))[1]
        txn_status = {
            "transaction_id": first.transaction_id,
            "correlation_id": str(dict(first.summary).get("correlation_id") or ""),
            "search_response": items,
            # RNU's earlier answer, kept for clients built on it.
            "status": state,
            "action": first.action,
            "summary": public_summary(dict(first.summary), extra),
            "timestamp": first.created_at.isoformat(),
        }
    return {
        "transaction_id": txn,
        "correlation_id": correlation_id,
        "txnstatus_response": {
            "txn_type": TXN_TYPES.get(txn_type, "search"),
            "txn_status": txn_status,
        },
    }


def public_summary(summary: JSON, extra: JSON) -> JSON:
    """What RNU recorded of a transaction, without a request still waiting for its job (a
    pending search's items may hold DNIs, and are the job's business)."""
    return {**{k: v for k, v in summary.items() if k != "pending"}, **extra}


def status_request(envelope: env.Envelope) -> tuple[str, JSON]:
    """(transaction id, the ``txnstatus_request``) of a txn-status envelope; refusals raised."""
    message = envelope.message
    ask = (env.items_of(message, "txnstatus_request", "txn_status_request") or [{}])[0]
    with env.refusing(envelope, "txn-on-status", "txnstatus_response"):
        txn = env.transaction_id(message)
        env.check_header(envelope.header, ("txn-status",), 1)
    return txn, ask


@router.post(
    "/sync/txn/status", response_model=None, openapi_extra=env.body_doc("TxnStatusRequest")
)
async def sync_txn_status(
    request: Request, agency: AgencyDep, session: SessionDep
) -> JSON | JSONResponse:
    """The outcome of an earlier transaction of this agency."""
    envelope = await env.read_envelope(request)
    txn, ask = status_request(envelope)
    message = await status_message(
        session, agency.client_id, txn=txn, correlation_id=str(uuid.uuid4()), ask=ask
    )
    return env.reply(
        env.callback_header(
            envelope.header, action="txn-on-status", status="succ", total=1, done=1
        ),
        message,
    )


@router.post(
    "/txn/status", response_model=None, openapi_extra=env.body_doc("TxnStatusRequest (async)")
)
async def async_txn_status(
    request: Request, agency: AgencyDep, session: SessionDep, state: StateDep, secret: SecretDep
) -> JSON | JSONResponse:
    """Acknowledge now; the status is looked up by the job and POSTed to ``header.sender_uri``
    + ``/registry/txn/on-status`` (header action ``txn-on-status``)."""
    envelope = await env.read_envelope(request)
    txn, ask = status_request(envelope)
    with env.refusing(envelope, "txn-on-status", "txnstatus_response"):
        target = await callbacks.check_sender(
            state, envelope.header.sender_uri, callbacks.ON_TXN_STATUS[0]
        )
    correlation_id = str(uuid.uuid4())
    await callbacks.queue(
        session,
        agency,
        envelope,
        target,
        txn=txn,
        kind="txn-status",
        action=callbacks.ON_TXN_STATUS[1],
        status="succ",
        correlation_id=correlation_id,
        ask=ask,
    )
    return env.ack(
        correlation_id,
        callback_secret=callbacks.callback_secret(secret, agency.client_id, correlation_id),
    )
