"""Deliver one death notice: each record built by the subscriber's policy, audited as a read.

A death notice is a read of a person by an agency, so it goes through the same path as a
DCI search (``usecases.agency``): only people enrolled in the agency's *own* programmes
(``enrollment:write:<PROGRAM>``, narrowed to the subscription's programme when it names one),
only the fields its policy shows (no DNI without ``person:read``; Contigo only with
``person:read:sensitive``), only its own programmes in the record, and one audit row per
person once the subscriber accepted the POST. The client's scopes are read at delivery
time: a scope withdrawn after subscribing stops the notices.
"""

from __future__ import annotations

import json
import logging

from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.agency import events, repository, webhooks
from rnu.agency.models import ApiClient, NotificationDelivery, Subscription
from rnu.agency.service import EVENT_DEATH, check_subscriber, sign, signing_secret
from rnu.base import utcnow
from rnu.db import make_engine, make_sessionmaker, session_scope
from rnu.errors import Forbidden, InvalidInput
from rnu.person import service as person_service
from usecases.agency import AgencyActor, AgencyReads
from usecases.dci_records import person_record

log = logging.getLogger("usecases.notifications")

PURPOSE = "fallecidos"
AUDIT_ACTION = "notify.death"


async def _notices(
    session: AsyncSession,
    secret: bytes,
    subscription: Subscription,
    client: ApiClient,
    delivery: NotificationDelivery,
) -> tuple[list[events.Notice], AgencyReads]:
    """The notices of this delivery as the client's policy shows them (audit not yet written)."""
    programs = check_subscriber(client, subscription.program_code)
    deaths = await repository.deaths_of_batch(
        session, batch_id=delivery.batch_id, programs=sorted(programs)
    )
    reads = AgencyReads(
        session, secret, AgencyActor.of_client(client, PURPOSE), action=AUDIT_ACTION
    )
    records = await person_service.get_by_ids(session, person_ids=[d.person_id for d in deaths])
    people = await reads.people(records)
    notices: list[events.Notice] = []
    for death, read in zip(deaths, people, strict=True):
        if read is None:
            continue
        record = person_record(read, programs=programs)
        record.death_date = death.death_on.isoformat()
        shown = record.model_dump(mode="json", exclude_none=True)
        reads.note(read, sorted(set(record.shown_fields()) | {"death_date"}))
        notices.append(
            events.Notice(reference_id=f"{delivery.event_id}:{len(notices) + 1}", record=shown)
        )
    return notices, reads


async def deliver(
    database_url: str,
    delivery_id: int,
    *,
    secret: bytes,
    policy: webhooks.WebhookPolicy,
    is_last_attempt: bool,
) -> str:
    """Send one delivery; return its status, or raise DeliveryFailed to be retried."""
    engine = make_engine(database_url, pool_size=1, role="worker")
    try:
        maker = make_sessionmaker(engine)
        async with session_scope(maker) as session:
            delivery = await repository.get_delivery(session, delivery_id=delivery_id)
            if delivery is None or delivery.status in ("delivered", "empty", "failed"):
                return delivery.status if delivery else "missing"
            subscription = await repository.get_subscription(
                session, subscription_id=delivery.subscription_id
            )
            client = (
                await repository.get_client(session, client_id=subscription.client_id)
                if subscription
                else None
            )
            refused: str | None = None
            if (
                subscription is None
                or client is None
                or subscription.revoked_at
                or client.revoked_at
            ):
                refused = "subscription or client revoked"
            else:
                try:
                    notices, reads = await _notices(session, secret, subscription, client, delivery)
                    target = await webhooks.check(subscription.callback_url, policy)
                except (Forbidden, InvalidInput) as exc:
                    refused = str(exc)
            if refused is not None:
                await repository.set_delivery(
                    session, delivery_id=delivery_id, status="failed", last_error=refused[:200]
                )
                return "failed"
            assert subscription is not None
            assert client is not None
            if not notices:
                await repository.set_delivery(
                    session, delivery_id=delivery_id, status="empty", record_count=0
                )
                return "empty"
            signing = signing_secret(secret, subscription)
            body = json.dumps(
                events.notify_envelope(
                    delivery.event_id, client.agency, notices, signing_secret=signing
                )
            ).encode()
            timestamp = str(int(utcnow().timestamp()))
            headers = {
                "Content-Type": "application/json",
                "X-RNU-Event": EVENT_DEATH,
                "X-RNU-Delivery": delivery.event_id,
                "X-RNU-Timestamp": timestamp,
                "X-RNU-Signature": sign(signing, timestamp, body),
            }
            attempts = delivery.attempts + 1
        status_code, error = await events.post(target, body, headers)
        async with session_scope(maker) as session:
            if error is None:
                await repository.set_delivery(
                    session,
                    delivery_id=delivery_id,
                    status="delivered",
                    attempts=attempts,
                    record_count=len(notices),
                    last_status_code=status_code,
                    last_error=None,
                    delivered_at=utcnow(),
                )
                reads.session = session
                await reads.audit({"delivery_id": delivery_id})
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
        raise events.DeliveryFailed(error)
    finally:
        await engine.dispose()
