"""All SQL of agency clients, subscriptions, deliveries, uploads and bulk checks."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.agency.models import (
    AgencyUpload,
    ApiClient,
    DciTransaction,
    NotificationDelivery,
    Subscription,
    VerificationJob,
)


async def get_by_prefix(session: AsyncSession, *, prefix: str) -> ApiClient | None:
    result = await session.exec(select(ApiClient).where(col(ApiClient.key_prefix) == prefix))
    return result.first()


async def get_client(session: AsyncSession, *, client_id: int) -> ApiClient | None:
    return await session.get(ApiClient, client_id)


async def get_by_agency(session: AsyncSession, *, agency: str) -> ApiClient | None:
    result = await session.exec(select(ApiClient).where(col(ApiClient.agency) == agency))
    return result.first()


async def list_clients(session: AsyncSession) -> list[ApiClient]:
    result = await session.exec(select(ApiClient).order_by(col(ApiClient.id)))
    return list(result.all())


async def add(session: AsyncSession, obj: Any) -> None:
    session.add(obj)
    await session.flush()


# ---------------------------------------------------------------------------------------------
# Subscriptions and deliveries.


async def list_subscriptions(
    session: AsyncSession, *, client_id: int | None = None, event_type: str | None = None
) -> list[Subscription]:
    query = select(Subscription).where(col(Subscription.revoked_at).is_(None))
    if client_id is not None:
        query = query.where(col(Subscription.client_id) == client_id)
    if event_type is not None:
        query = query.where(col(Subscription.event_type) == event_type)
    result = await session.exec(query.order_by(col(Subscription.id)))
    return list(result.all())


async def get_subscription(session: AsyncSession, *, subscription_id: int) -> Subscription | None:
    return await session.get(Subscription, subscription_id)


async def get_delivery(session: AsyncSession, *, delivery_id: int) -> NotificationDelivery | None:
    return await session.get(NotificationDelivery, delivery_id)


@dataclass(frozen=True)
class DeathOfPerson:
    """A registry person named by a deaths batch."""

    person_id: int
    death_on: date


async def deaths_of_batch(
    session: AsyncSession, *, batch_id: int, programs: Sequence[str]
) -> list[DeathOfPerson]:
    """The batch's deaths of people enrolled in any of ``programs`` (never of anyone else)."""
    if not programs:
        return []
    rows = await (await session.connection()).execute(
        text(
            """
            SELECT p.id AS person_id, d.death_on
              FROM death_record d
              JOIN person p ON p.doc_type IN ('DNI', 'CUI') AND p.doc_number = d.dni
             WHERE d.batch_id = :batch
               AND EXISTS (SELECT 1 FROM enrollment e WHERE e.person_id = p.id
                            AND e.program_code = ANY(CAST(:programs AS text[])))
             ORDER BY d.id
            """
        ),
        {"batch": batch_id, "programs": list(programs)},
    )
    return [DeathOfPerson(person_id=int(r.person_id), death_on=r.death_on) for r in rows]


async def set_delivery(session: AsyncSession, *, delivery_id: int, **values: Any) -> None:
    await (await session.connection()).execute(
        update(NotificationDelivery)
        .where(col(NotificationDelivery.id) == delivery_id)
        .values(**values)
    )


# ---------------------------------------------------------------------------------------------
# Uploads, bulk checks, DCI transactions.


async def get_upload(session: AsyncSession, *, upload_id: int) -> AgencyUpload | None:
    return await session.get(AgencyUpload, upload_id)


async def set_upload(session: AsyncSession, *, upload_id: int, **values: Any) -> None:
    await (await session.connection()).execute(
        update(AgencyUpload).where(col(AgencyUpload.id) == upload_id).values(**values)
    )


async def get_verification(session: AsyncSession, *, job_id: int) -> VerificationJob | None:
    return await session.get(VerificationJob, job_id)


async def get_transaction(
    session: AsyncSession, *, client_id: int, transaction_id: str
) -> DciTransaction | None:
    result = await session.exec(
        select(DciTransaction).where(
            col(DciTransaction.client_id) == client_id,
            col(DciTransaction.transaction_id) == transaction_id,
        )
    )
    return result.first()


async def get_transaction_by_id(session: AsyncSession, *, row_id: int) -> DciTransaction | None:
    return await session.get(DciTransaction, row_id)


async def find_transactions(
    session: AsyncSession,
    *,
    client_id: int,
    correlation_id: str | None = None,
    reference_ids: Sequence[str] = (),
) -> list[DciTransaction]:
    """This client's transactions with this correlation id, or answering any of these items."""
    query = select(DciTransaction).where(col(DciTransaction.client_id) == client_id)
    if correlation_id is not None:
        query = query.where(
            text("dci_transaction.summary->>'correlation_id' = :cid").bindparams(cid=correlation_id)
        )
    elif reference_ids:
        query = query.where(
            text("dci_transaction.summary->'reference_ids' ?| CAST(:refs AS text[])").bindparams(
                refs=list(reference_ids)
            )
        )
    else:
        return []
    result = await session.exec(query.order_by(col(DciTransaction.id)).limit(100))
    return list(result.all())


async def upsert_transaction(session: AsyncSession, *, values: dict[str, Any]) -> None:
    """Record (or overwrite, for a retried transaction id) what RNU answered."""
    await (await session.connection()).execute(
        text(
            """
            INSERT INTO dci_transaction (client_id, transaction_id, message_id, action, status,
                                         reason_code, summary, upload_id)
            VALUES (:client_id, :transaction_id, :message_id, :action, :status, :reason_code,
                    CAST(:summary AS jsonb), :upload_id)
            ON CONFLICT (client_id, transaction_id) DO UPDATE SET
              message_id = EXCLUDED.message_id, action = EXCLUDED.action,
              status = EXCLUDED.status, reason_code = EXCLUDED.reason_code,
              summary = EXCLUDED.summary, upload_id = EXCLUDED.upload_id
            """
        ),
        values,
    )


async def insert_reads(
    session: AsyncSession,
    *,
    actor_id: str,
    action: str,
    purpose: str | None,
    subjects: Sequence[str],
    fields: Sequence[str],
    details: dict[str, Any],
) -> None:
    """One audit row per subject in a single statement (a 1,000-person batch is one INSERT)."""
    await (await session.connection()).execute(
        text(
            """
            INSERT INTO audit_event (at, actor_kind, actor_id, action, purpose, subject_hmac,
                                     fields, details)
            SELECT now(), 'agency', :actor_id, :action, :purpose, s,
                   CAST(:fields AS text[]), CAST(:details AS jsonb)
              FROM unnest(CAST(:subjects AS text[])) AS s
            """
        ),
        {
            "actor_id": actor_id,
            "action": action,
            "purpose": purpose,
            "subjects": list(subjects),
            "fields": list(fields),
            "details": json.dumps(details),
        },
    )
