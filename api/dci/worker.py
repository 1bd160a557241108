"""The DCI jobs: answer a stored asynchronous search, POST the other pending callbacks.

``run_search`` (``/registry/search``): the answer is computed, POSTed and committed in one
transaction, so the audit rows of the reads and the transaction's new status exist only if
the caller accepted the callback; a refused or failed POST rolls them back and the queue
retries (the last attempt records ``rjct``). The reads are bounded by the records the ACK
reserved on the agency's quota, and what the call did not return goes back once the job is
done (``api.dci.quota``).

``run_callback`` (``/registry/subscribe``, ``/registry/unsubscribe``, ``/registry/txn/status``):
the ``on-*`` message stored at the ACK, or the transaction status looked up now, POSTed.

Both sign the callback with the transaction's ``callback_secret`` (``api.dci.callbacks``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from api.auth import agency as agency_auth
from api.dci import callbacks, quota
from api.dci.search import AUDIT_ACTION, answer, on_search_message
from api.dci.transactions import item_summary
from api.dci.txn import status_message
from api.ratelimit import RateLimiter
from rnu import jobs
from rnu.agency import events, repository, webhooks
from rnu.agency.models import DciTransaction
from rnu.cache import cache_for, make_redis
from rnu.config import get_settings
from rnu.db import make_engine, make_sessionmaker, session_scope
from rnu.errors import InvalidInput
from usecases.agency import AgencyActor, AgencyReads

log = logging.getLogger("rnu.api.dci")
JSON = dict[str, object]


@dataclass(frozen=True)
class SearchOutcome:
    state: str
    held: quota.Held
    returned: int


async def _search(
    engine: AsyncEngine,
    row: DciTransaction,
    pending: dict[str, object],
    *,
    secret: bytes,
    policy: webhooks.WebhookPolicy,
    is_last_attempt: bool,
    session: AsyncSession,
) -> SearchOutcome:
    assert row.id is not None
    summary = {k: v for k, v in dict(row.summary).items() if k != "pending"}
    held = quota.Held.from_json(pending.get("quota"))
    # A request queued before the ACK reserved records is bounded by the per-call maximum.
    bound = held.reserved if "quota" in pending else agency_auth.MAX_RECORDS_PER_CALL
    client = await repository.get_client(session, client_id=row.client_id)
    try:
        if client is None or client.revoked_at is not None:
            raise InvalidInput("the agency client was revoked")
        target = await webhooks.check(str(pending["callback"]), policy)
    except InvalidInput as exc:
        summary["error"] = str(exc)[:200]
        await callbacks.finish(session, row.id, "rjct", summary)
        return SearchOutcome("rjct", held, 0)
    actor = AgencyActor.of_client(client, str(pending["purpose"]))
    reads = AgencyReads(session, secret, actor, action=AUDIT_ACTION, max_records=bound)
    items = pending["items"]
    answers = await answer(session, reads, list(items) if isinstance(items, list) else [])
    correlation_id = str(summary.get("correlation_id"))
    header, message = on_search_message(
        row.transaction_id, correlation_id, str(pending["sender_id"]), answers
    )
    key = callbacks.callback_secret(secret, row.client_id, correlation_id)
    body, headers = callbacks.signed(header, message, key)
    status_code, error = await events.post(target, body, headers)
    if error is not None and not is_last_attempt:
        log.warning("on-search for transaction row %s failed: %s", row.id, error)
        raise events.DeliveryFailed(error)
    summary["items"] = item_summary(answers)
    summary["callback_status"] = status_code
    if error is None:
        await callbacks.finish(session, row.id, "succ", summary)
        return SearchOutcome("succ", held, reads.returned)
    summary["error"] = error
    await session.rollback()  # not delivered: no reads happened
    async with session_scope(make_sessionmaker(engine)) as retry:
        await callbacks.finish(retry, row.id, "rjct", summary)
    return SearchOutcome("rjct", held, 0)


async def _settle(held: quota.Held, returned: int) -> None:
    """Give the records the search did not return back to the agency's quota windows."""
    if held.reserved == 0 or not any(not w.local for w in held.windows):
        return
    redis = make_redis(jobs.counters_url(), timeout_s=1.0)
    try:
        await quota.settle(RateLimiter(cache_for(redis), get_settings()), held, returned)
    finally:
        await redis.aclose()


async def run_search(
    database_url: str,
    row_id: int,
    *,
    secret: bytes,
    policy: webhooks.WebhookPolicy,
    is_last_attempt: bool,
) -> str:
    """Answer one pending asynchronous search; raise DeliveryFailed to be retried."""
    engine = make_engine(database_url, pool_size=1, role="worker")
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            row = await repository.get_transaction_by_id(session, row_id=row_id)
            pending = callbacks.pending_of(dict(row.summary)) if row else None
            if row is None or pending is None:
                return "done"
            outcome = await _search(
                engine,
                row,
                pending,
                secret=secret,
                policy=policy,
                is_last_attempt=is_last_attempt,
                session=session,
            )
    finally:
        await engine.dispose()
    # After the commit: settling twice (a retried job) would hand records back twice.
    await _settle(outcome.held, outcome.returned)
    return outcome.state


async def _message(session: AsyncSession, row: DciTransaction, pending: dict[str, object]) -> JSON:
    """The callback's message: stored at the ACK, or (txn/status) looked up now."""
    if pending.get("action") == callbacks.ON_TXN_STATUS[1]:
        ask = pending.get("ask")
        return dict(
            await status_message(
                session,
                row.client_id,
                txn=row.transaction_id,
                correlation_id=str(pending.get("correlation_id") or ""),
                ask=ask if isinstance(ask, dict) else {},
            )
        )
    message = pending.get("message")
    return dict(message) if isinstance(message, dict) else {}


def _count(value: object, default: int) -> int:
    return value if isinstance(value, int) else default


async def run_callback(
    database_url: str,
    row_id: int,
    *,
    secret: bytes,
    policy: webhooks.WebhookPolicy,
    is_last_attempt: bool,
) -> str:
    """POST one pending on-subscribe / on-unsubscribe / txn-on-status; DeliveryFailed to retry.

    A subscribe or unsubscribe keeps the status its items had (the subscriptions exist
    whether or not the callback arrives); a txn/status is ``succ`` once delivered.
    """
    engine = make_engine(database_url, pool_size=1, role="worker")
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            row = await repository.get_transaction_by_id(session, row_id=row_id)
            pending = callbacks.pending_of(dict(row.summary)) if row else None
            if row is None or row.id is None or pending is None:
                return "done"
            summary = {k: v for k, v in dict(row.summary).items() if k != "pending"}
            asks_status = pending.get("action") == callbacks.ON_TXN_STATUS[1]
            undelivered = "rjct" if asks_status else row.status
            client = await repository.get_client(session, client_id=row.client_id)
            try:
                if client is None or client.revoked_at is not None:
                    raise InvalidInput("the agency client was revoked")
                target = await webhooks.check(str(pending["callback"]), policy)
            except InvalidInput as exc:
                summary["callback_error"] = str(exc)[:200]
                await callbacks.finish(session, row.id, undelivered, summary)
                return "rjct"
            message = await _message(session, row, pending)
            total = _count(pending.get("total"), 1)
            header = callbacks.callback_header(
                str(pending["action"]),
                str(pending.get("sender_id") or ""),
                str(pending.get("status") or "succ"),
                total,
                _count(pending.get("done"), total),
            )
            correlation_id = str(pending.get("correlation_id"))
            key = callbacks.callback_secret(secret, row.client_id, correlation_id)
            body, headers = callbacks.signed(header, message, key)
            status_code, error = await events.post(target, body, headers)
            if error is not None and not is_last_attempt:
                log.warning("%s for transaction row %s failed: %s", header["action"], row_id, error)
                raise events.DeliveryFailed(error)
            summary["callback_status"] = status_code
            if error is not None:
                summary["callback_error"] = error
            state = undelivered if error is not None else ("succ" if asks_status else row.status)
            await callbacks.finish(session, row.id, state, summary)
            return "succ" if error is None else "rjct"
    finally:
        await engine.dispose()
