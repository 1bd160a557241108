"""What RNU answered, kept per agency transaction, for ``txn/status``.

A transaction's row keeps its action, overall status, the correlation id RNU gave it and each
item's reference id, status and reason code (no personal data: no query, no record), so an
agency can ask again by ``transaction_id``, ``correlation_id`` or ``reference_id_list``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from api.auth.agency import Agency
from api.dci import envelope as env
from api.dci.envelope import Envelope
from rnu.agency import repository

JSON = dict[str, Any]


def item_summary(answers: Sequence[JSON]) -> list[JSON]:
    keep = ("reference_id", "timestamp", "status", "status_reason_code", "status_reason_message")
    return [{k: a[k] for k in keep if k in a} for a in answers]


async def record(
    session: AsyncSession,
    agency: Agency,
    envelope: Envelope,
    *,
    txn: str,
    kind: str,
    status: str,
    correlation_id: str,
    answers: Sequence[JSON] = (),
    upload_id: int | None = None,
    extra: JSON | None = None,
) -> None:
    """Record (or overwrite, for a retried transaction id) what RNU answered."""
    summary: JSON = {
        "kind": kind,
        "correlation_id": correlation_id,
        "items": item_summary(answers),
        "reference_ids": [str(a.get("reference_id", "")) for a in answers],
        **(extra or {}),
    }
    await repository.upsert_transaction(
        session,
        values={
            "client_id": agency.client_id,
            "transaction_id": txn,
            "message_id": envelope.header.message_id,
            "action": kind,
            "status": status,
            "reason_code": None,
            "summary": json.dumps(summary),
            "upload_id": upload_id,
        },
    )


async def answered(
    session: AsyncSession,
    agency: Agency,
    envelope: Envelope,
    *,
    txn: str,
    kind: str,
    action: str,
    response_key: str,
    answers: list[JSON],
    upload_id: int | None = None,
    extra: JSON | None = None,
) -> JSON:
    """Record the call's answers, then the whole answer: callback header and message."""
    status, total = env.item_status(answers)
    if upload_id is not None:
        status = "pdng"
    correlation_id = str(uuid.uuid4())
    await record(
        session,
        agency,
        envelope,
        txn=txn,
        kind=kind,
        status=status,
        correlation_id=correlation_id,
        answers=answers,
        upload_id=upload_id,
    )
    done = sum(1 for a in answers if a["status"] in ("succ", "pdng"))
    header = env.callback_header(
        envelope.header, action=action, status=status, total=total, done=done
    )
    message = {"transaction_id": txn, "correlation_id": correlation_id, response_key: answers}
    return env.reply(header, {**message, **(extra or {})})
