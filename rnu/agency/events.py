"""DEATH_REGISTERED: after a RENIEC deaths batch commits, tell every subscribed program.

Scheduling inserts one delivery row per subscription and enqueues its job in the same
transaction. Delivering POSTs a DCI-style ``notify`` envelope to the subscriber's URL, signed
with HMAC-SHA256 (``X-RNU-Signature: sha256=<hex>`` over ``<timestamp>.<body>``); a failure
is recorded on the row and raised so the job queue retries with exponential backoff. A
program-scoped subscription hears only of its own users' deaths, so Pensión 65 can stop a
payment the month it happens without learning of anyone else.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.agency import repository
from rnu.agency.service import EVENT_DEATH, actor_id, audit_reads, sign, signing_secret
from rnu.base import utcnow
from rnu.db import make_engine, make_sessionmaker, session_scope
from rnu.hashing import dni_hmac

log = logging.getLogger("rnu.agency.events")

SENDER_ID = "rnu.midis.gob.pe"
TIMEOUT_S = 10.0


class DeliveryFailed(Exception):
    """The subscriber did not accept the event; the job queue will try again."""


async def schedule_deaths(session: AsyncSession, *, batch_id: int) -> list[int]:
    """One delivery (and its job) per live DEATH_REGISTERED subscription; idempotent per batch."""
    from rnu import jobs

    subscriptions = await repository.list_subscriptions(session, event_type=EVENT_DEATH)
    rows = [(s.id, str(uuid.uuid4())) for s in subscriptions if s.id is not None]
    delivery_ids = await repository.insert_deliveries(session, batch_id=batch_id, rows=rows)
    for delivery_id in delivery_ids:
        await jobs.defer(session, jobs.TASK_DELIVER, {"delivery_id": delivery_id})
    return delivery_ids


async def notify_deaths_loaded(database_url: str, batch_id: int) -> list[int]:
    """Schedule notifications for a committed deaths batch (called by the load pipeline)."""
    engine = make_engine(database_url, pool_size=1, role="notify")
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            return await schedule_deaths(session, batch_id=batch_id)
    finally:
        await engine.dispose()


def envelope(event_id: str, receiver: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    """A DCI ``notify`` message carrying the deaths of one batch."""
    now = utcnow().isoformat()
    reg_records = [
        {
            "identifier": [
                {"identifier_type": r["doc_type"] or "DNI", "identifier_value": r["dni"]}
            ],
            "death_date": r["death_on"].isoformat(),
            "programmes": list(r["programs"] or []),
        }
        for r in records
    ]
    return {
        "signature": "",
        "header": {
            "version": "1.0.0",
            "message_id": event_id,
            "message_ts": now,
            "action": "notify",
            "sender_id": SENDER_ID,
            "receiver_id": receiver,
            "total_count": len(reg_records),
            "is_msg_encrypted": False,
        },
        "message": {
            "transaction_id": event_id,
            "notify_event": [
                {
                    "reference_id": event_id,
                    "timestamp": now,
                    "data": {
                        "version": "1.0.0",
                        "reg_type": "ns:org:RegistryType:IBR",
                        "reg_event_type": EVENT_DEATH,
                        "reg_record_type": "PERSON",
                        "reg_records": reg_records,
                    },
                    "locale": "spa",
                }
            ],
        },
    }


async def deliver(
    database_url: str, delivery_id: int, *, secret: bytes, is_last_attempt: bool
) -> str:
    """Send one delivery; return its status, or raise DeliveryFailed to be retried."""
    engine = make_engine(database_url, pool_size=1, role="worker")
    try:
        maker = make_sessionmaker(engine)
        async with session_scope(maker) as session:
            delivery = await repository.get_delivery(session, delivery_id=delivery_id)
            if delivery is None or delivery.status in ("delivered", "empty"):
                return delivery.status if delivery else "missing"
            subscription = await repository.get_subscription(
                session, subscription_id=delivery.subscription_id
            )
            client = (
                await repository.get_client(session, client_id=subscription.client_id)
                if subscription
                else None
            )
            if (
                subscription is None
                or client is None
                or subscription.revoked_at
                or (client.revoked_at)
            ):
                await repository.set_delivery(
                    session,
                    delivery_id=delivery_id,
                    status="failed",
                    last_error="subscription or client revoked",
                )
                return "failed"
            records = await repository.deaths_of_batch(
                session, batch_id=delivery.batch_id, program_code=subscription.program_code
            )
            if not records:
                await repository.set_delivery(
                    session, delivery_id=delivery_id, status="empty", record_count=0
                )
                return "empty"
            body = json.dumps(envelope(delivery.event_id, client.agency, records)).encode()
            timestamp = str(int(utcnow().timestamp()))
            headers = {
                "Content-Type": "application/json",
                "X-RNU-Event": EVENT_DEATH,
                "X-RNU-Delivery": delivery.event_id,
                "X-RNU-Timestamp": timestamp,
                "X-RNU-Signature": sign(signing_secret(secret, subscription), timestamp, body),
            }
            url = subscription.callback_url
            attempts = delivery.attempts + 1
            subjects = [dni_hmac(secret, r["dni"]) for r in records]
        error: str | None = None
        status_code: int | None = None
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT_S, follow_redirects=False) as http:
                response = await http.post(url, content=body, headers=headers)
            status_code = response.status_code
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        async with session_scope(maker) as session:
            if error is None:
                await repository.set_delivery(
                    session,
                    delivery_id=delivery_id,
                    status="delivered",
                    attempts=attempts,
                    record_count=len(records),
                    last_status_code=status_code,
                    last_error=None,
                    delivered_at=utcnow(),
                )
                await audit_reads(
                    session,
                    actor_id=actor_id(client),
                    purpose="fallecidos",
                    action="notify.death",
                    subjects=subjects,
                    fields=("dni", "death_on", "programs"),
                    details={"delivery_id": delivery_id, "client_id": client.id},
                )
                return "delivered"
            await repository.set_delivery(
                session,
                delivery_id=delivery_id,
                status="failed" if is_last_attempt else "pending",
                attempts=attempts,
                last_status_code=status_code,
                last_error=error,
            )
        log.warning("delivery %s attempt %s failed: %s", delivery_id, attempts, error)
        if is_last_attempt:
            return "failed"
        raise DeliveryFailed(error)
    finally:
        await engine.dispose()
