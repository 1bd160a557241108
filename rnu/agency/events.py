"""Death notices (DEATH_REGISTERED, spdci ``Death``): the outbox, the push envelope, the POST.

**Outbox.** ``schedule_deaths`` runs inside the deaths batch's own transaction (called by
``rnu.ingest.deaths``): it inserts one delivery row per live subscription and enqueues its
job (procrastinate's jobs live in the same PostgreSQL), so the notices commit with the
deaths or not at all. Before, they were scheduled after the batch committed, and a crash in
between lost them for good.

**Push.** Each delivery POSTs a DCI ``notify`` message: a callback header (``status``
required by the spec), one ``notify_event`` per person (the spec types ``reg_records`` as one
object), a DCI ``signature`` (HMAC-SHA256 over the header and message, keyed with the
subscription's signing secret) and the ``X-RNU-Signature: sha256=<hex>`` header over
``<timestamp>.<body>``. What each record holds is decided by the subscriber's privacy policy
(``usecases.notifications``), never here.

**Transport.** ``post`` connects to the address ``rnu.agency.webhooks`` checked (pinned), with
no redirects and no proxy from the environment; a failure is returned, and the job queue
retries with exponential backoff.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx

from rnu import jobs
from rnu.agency.service import EVENT_DEATH
from rnu.agency.webhooks import Target
from rnu.base import utcnow

SENDER_ID = "rnu.midis.gob.pe"
TIMEOUT_S = 10.0
VERSION = "1.0.0"
# The spdci vocabulary (RegistryEventType / VitalEventTypeEnum) names the event ``Death``.
SPDCI_DEATH = "Death"


class DeliveryFailed(Exception):
    """The subscriber did not accept the event; the job queue will try again."""


async def schedule_deaths(conn: asyncpg.Connection, *, batch_id: int) -> int:
    """In the batch's transaction: a delivery and its job per live subscription (idempotent)."""
    return int(
        await conn.fetchval(
            """
            WITH new AS (
              INSERT INTO notification_delivery (subscription_id, batch_id, event_id)
              SELECT s.id, $1, gen_random_uuid()::text
                FROM subscription s
               WHERE s.event_type = $2 AND s.revoked_at IS NULL
              ON CONFLICT (subscription_id, batch_id) DO NOTHING
              RETURNING id),
            queued AS (
              SELECT procrastinate_defer_jobs_v1(ARRAY(
                SELECT ROW($3::text, $4::text, 0, NULL, NULL,
                           jsonb_build_object('delivery_id', id), NULL
                       )::procrastinate_job_to_defer_v1
                  FROM new)) AS ids)
            SELECT coalesce(cardinality((SELECT ids FROM queued)), 0)
            """,
            batch_id,
            EVENT_DEATH,
            jobs.QUEUE,
            jobs.TASK_DELIVER,
        )
    )


def dci_signature(secret: str, header: dict[str, Any], message: dict[str, Any]) -> str:
    """The envelope's ``signature``: HMAC-SHA256 of the canonical JSON of header + message."""
    canonical = json.dumps(
        {"header": header, "message": message}, sort_keys=True, separators=(",", ":")
    )
    mac = hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()
    return f'Signature: namespace="rnu", algorithm="hmac-sha256", signature="{mac}"'


@dataclass(frozen=True)
class Notice:
    """One person's death, as the subscriber may see it (``record``: a DCI Person record)."""

    reference_id: str
    record: dict[str, Any]


def notify_envelope(
    event_id: str, receiver: str, notices: Sequence[Notice], *, signing_secret: str
) -> dict[str, Any]:
    """A DCI ``notify`` message with one ``notify_event`` per death (spec: NotifyEventRequest)."""
    now = utcnow().isoformat()
    header: dict[str, Any] = {
        "version": VERSION,
        "message_id": event_id,
        "message_ts": now,
        "action": "notify",
        "status": "succ",
        "total_count": len(notices),
        "completed_count": len(notices),
        "sender_id": SENDER_ID,
        "receiver_id": receiver,
        "is_msg_encrypted": False,
    }
    message: dict[str, Any] = {
        "transaction_id": event_id,
        "notify_event": [
            {
                "reference_id": notice.reference_id,
                "timestamp": now,
                "data": {
                    "version": VERSION,
                    "reg_type": "ns:org:RegistryType:IBR",
                    "reg_event_type": SPDCI_DEATH,
                    "rnu_event_type": EVENT_DEATH,
                    "reg_record_type": "Person",
                    "response_entity": "Member",
                    "reg_records": notice.record,
                },
                "locale": "spa",
            }
            for notice in notices
        ],
    }
    return {
        "signature": dci_signature(signing_secret, header, message),
        "header": header,
        "message": message,
    }


def new_event_id() -> str:
    return str(uuid.uuid4())


async def post(
    target: Target, body: bytes, headers: dict[str, str]
) -> tuple[int | None, str | None]:
    """POST to the checked address; (status code, error) where error None means accepted."""
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    try:
        async with httpx.AsyncClient(
            timeout=TIMEOUT_S, follow_redirects=False, trust_env=False
        ) as http:
            response = await http.post(
                target.pinned_url,
                content=body,
                headers={**headers, "Host": target.host_header},
                extensions=extensions,
            )
    except httpx.HTTPError as exc:
        return None, type(exc).__name__
    if not 200 <= response.status_code < 300:
        return response.status_code, f"HTTP {response.status_code}"
    return response.status_code, None
