"""Callbacks RNU POSTs to an agency (the spec's ``on-*`` answers): where, signed how, when.

The spec's asynchronous calls answer an ACK now and POST the answer later to the caller's
``header.sender_uri``: ``on-search``, ``on-subscribe``, ``on-unsubscribe`` and
``txn/on-status``. RNU checks ``sender_uri`` when it is given (``rnu.agency.webhooks``: the
SSRF rules; a refused one is a 400 ``err.sender_uri.invalid`` before anything is done) and
again at every delivery, and POSTs from the job queue, retried with backoff.

**Signed like the death notices.** Each callback carries the DCI ``signature`` (HMAC-SHA256
of the canonical JSON of header + message) and the ``X-RNU-Timestamp`` / ``X-RNU-Signature:
sha256=HMAC(secret, timestamp + "." + body)`` headers. The key is the transaction's
``callback_secret``, derived from RNU's secret, the agency and the ACK's ``correlation_id``
(never stored) and given once, in the ACK, to the authenticated caller: a subscribe message
may create several subscriptions or none, and an unsubscribe may name codes that are not the
agency's, so no subscription's own secret fits every callback.

``queue`` keeps what the callback needs in the transaction row (the answer itself when it is
known at the ACK — subscribe, unsubscribe —, the question when it is computed by the job —
``txn/status``) and enqueues its job in the request's transaction; ``api.dci.worker`` runs
it (and the asynchronous search's, which reads people through the agency's policy).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from api.auth.agency import Agency
from api.dci import envelope as env
from api.dci import transactions
from api.state import AppState
from rnu import jobs
from rnu.agency import events, repository, webhooks
from rnu.agency.service import sign
from rnu.base import utcnow
from rnu.errors import InvalidInput

JSON = dict[str, Any]
_LABEL = b"rnu-dci-callback:"
# The callback of each asynchronous action (path under sender_uri, header action).
ON_SEARCH = ("on-search", "on-search")
ON_SUBSCRIBE = ("on-subscribe", "on-subscribe")
ON_UNSUBSCRIBE = ("on-unsubscribe", "on-unsubscribe")
ON_TXN_STATUS = ("txn/on-status", "txn-on-status")


def callback_url(sender_uri: str, path: str) -> str:
    """The caller's callback endpoint: ``sender_uri`` as given when it already names this
    callback (``…/on-search``), else ``sender_uri/registry/<path>`` as the spec's paths."""
    uri = sender_uri.rstrip("/")
    return uri if uri.endswith("/" + path.rsplit("/", 1)[-1]) else f"{uri}/registry/{path}"


async def check_sender(state: AppState, sender_uri: str | None, path: str) -> webhooks.Target:
    """The checked callback target (400 ``err.sender_uri.invalid`` if RNU may not call it)."""
    if not sender_uri:
        raise env.DciRejected("rjct.action.invalid", "header.sender_uri is required")
    try:
        return await webhooks.check(callback_url(sender_uri, path), state.settings.webhook_policy())
    except InvalidInput as exc:
        raise env.DciHttpError(400, str(exc), "err.sender_uri.invalid") from exc


def callback_secret(server_secret: bytes, client_id: int, correlation_id: str) -> str:
    """The key the callbacks of one transaction are signed with (derived, never stored)."""
    message = _LABEL + f"{client_id}:{correlation_id}".encode()
    return hmac.new(server_secret, message, hashlib.sha256).hexdigest()


def signed(header: JSON, message: JSON, secret: str) -> tuple[bytes, dict[str, str]]:
    """The callback's body (DCI ``signature`` filled) and its HTTP headers (X-RNU-*)."""
    body = json.dumps(
        {
            "signature": events.dci_signature(secret, header, message),
            "header": header,
            "message": message,
        }
    ).encode()
    timestamp = str(int(utcnow().timestamp()))
    headers = {
        "Content-Type": "application/json",
        "X-RNU-Event": str(header["action"]),
        "X-RNU-Delivery": str(header["message_id"]),
        "X-RNU-Timestamp": timestamp,
        "X-RNU-Signature": sign(secret, timestamp, body),
    }
    return body, headers


def callback_header(action: str, receiver: str, status: str, total: int, done: int) -> JSON:
    header = env.callback_header(None, action=action, status=status, total=total, done=done)
    header["receiver_id"] = receiver
    return header


def pending_of(summary: JSON) -> JSON | None:
    pending = summary.get("pending")
    return pending if isinstance(pending, dict) else None


async def finish(session: AsyncSession, row_id: int, status: str, summary: JSON) -> None:
    """The transaction's final status and summary (the stored request dropped)."""
    await (await session.connection()).execute(
        text("UPDATE dci_transaction SET status = :s, summary = CAST(:m AS jsonb) WHERE id = :i"),
        {"s": status, "m": json.dumps(summary), "i": row_id},
    )


async def queue(
    session: AsyncSession,
    agency: Agency,
    envelope: env.Envelope,
    target: webhooks.Target,
    *,
    txn: str,
    kind: str,
    action: str,
    status: str,
    correlation_id: str,
    answers: list[JSON] | None = None,
    message: JSON | None = None,
    ask: JSON | None = None,
    total: int = 1,
    done: int = 1,
) -> None:
    """Record the transaction with its pending callback, and enqueue the callback's job."""
    pending: JSON = {
        "callback": target.url,
        "action": action,
        "sender_id": envelope.header.sender_id,
        "correlation_id": correlation_id,
        "status": status,
        "total": total,
        "done": done,
        "message": message,
        "ask": ask,
    }
    await transactions.record(
        session,
        agency,
        envelope,
        txn=txn,
        kind=kind,
        status=status if ask is None else "pdng",
        correlation_id=correlation_id,
        answers=answers or [],
        extra={"pending": pending},
    )
    row = await repository.get_transaction(session, client_id=agency.client_id, transaction_id=txn)
    assert row is not None
    assert row.id is not None
    await jobs.defer(session, jobs.TASK_DCI_CALLBACK, {"transaction_row_id": row.id})
