"""The job behind ``/registry/search``: answer the stored request, POST ``on-search``.

The answer is computed, POSTed and committed in one transaction: the audit rows of the reads
and the transaction's new status exist only if the caller accepted the callback; a refused
or failed POST rolls them back and the job queue retries (the last attempt records ``rjct``).
"""

from __future__ import annotations

import json
import logging

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from api.auth.agency import MAX_RECORDS_PER_CALL
from api.dci.search import AUDIT_ACTION, answer, on_search_body, stored_request
from api.dci.transactions import item_summary
from rnu.agency import events, repository, webhooks
from rnu.db import make_engine, make_sessionmaker, session_scope
from rnu.errors import InvalidInput
from usecases.agency import AgencyActor, AgencyReads

log = logging.getLogger("rnu.api.dci")


async def _finish(
    session: AsyncSession, row_id: int, status: str, summary: dict[str, object]
) -> None:
    await (await session.connection()).execute(
        text("UPDATE dci_transaction SET status = :s, summary = CAST(:m AS jsonb) WHERE id = :i"),
        {"s": status, "m": json.dumps(summary), "i": row_id},
    )


async def run(
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
            pending = stored_request(dict(row.summary)) if row else None
            if row is None or pending is None:
                return "done"
            summary = {k: v for k, v in dict(row.summary).items() if k != "pending"}
            client = await repository.get_client(session, client_id=row.client_id)
            try:
                if client is None or client.revoked_at is not None:
                    raise InvalidInput("the agency client was revoked")
                target = await webhooks.check(str(pending["callback"]), policy)
            except InvalidInput as exc:
                summary["error"] = str(exc)[:200]
                await _finish(session, row_id, "rjct", summary)
                return "rjct"
            actor = AgencyActor.of_client(client, str(pending["purpose"]))
            reads = AgencyReads(
                session, secret, actor, action=AUDIT_ACTION, max_records=MAX_RECORDS_PER_CALL
            )
            answers = await answer(session, reads, list(pending["items"]))
            body = on_search_body(
                row.transaction_id,
                str(summary.get("correlation_id")),
                str(pending["sender_id"]),
                answers,
            )
            status_code, error = await events.post(
                target, body, {"Content-Type": "application/json"}
            )
            if error is not None and not is_last_attempt:
                log.warning("on-search for transaction row %s failed: %s", row_id, error)
                raise events.DeliveryFailed(error)
            summary["items"] = item_summary(answers)
            summary["callback_status"] = status_code
            state = "succ" if error is None else "rjct"
            if error is not None:
                summary["error"] = error
                await session.rollback()  # not delivered: no reads happened
                async with session_scope(make_sessionmaker(engine)) as retry:
                    await _finish(retry, row_id, state, summary)
                return state
            await _finish(session, row_id, state, summary)
            return state
    finally:
        await engine.dispose()
