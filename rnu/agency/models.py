"""Other agencies' API clients: a hashed key and the scopes it grants."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from rnu.base import (
    bigint_fk,
    created_at_field,
    id_field,
    jsonb_field,
    text_array_field,
    timestamptz_field,
)


class ApiClient(SQLModel, table=True):
    """An agency's key; only its hash is stored, the key itself is shown once."""

    __tablename__ = "api_client"

    id: int | None = id_field()
    agency: str
    # The institution's name as citizens read it in their access log; None: show ``agency``.
    public_name: str | None = Field(default=None, max_length=160)
    key_prefix: str = Field(max_length=12, unique=True)
    key_hash: str
    scopes: list[str] = text_array_field()
    # Per-client limits: requests per minute, and person records read per day.
    rate_per_minute: int = Field(default=600, sa_column_kwargs={"server_default": "600"})
    daily_quota: int = Field(default=200_000, sa_column_kwargs={"server_default": "200000"})
    # Person records read per minute: a burst bound beside the day's quota.
    records_per_minute: int = Field(default=10_000, sa_column_kwargs={"server_default": "10000"})
    created_at: datetime = created_at_field()
    rotated_at: datetime | None = timestamptz_field()
    revoked_at: datetime | None = timestamptz_field()


class PersistedQuery(SQLModel, table=True):
    """A GraphQL query an agency registered; in production only registered queries run.

    ``sha256`` is the hex SHA-256 of the exact query text, the hash a client sends as
    ``extensions.persistedQuery.sha256Hash``.
    """

    __tablename__ = "persisted_query"
    __table_args__ = (UniqueConstraint("client_id", "sha256"),)

    id: int | None = id_field()
    client_id: int = bigint_fk("api_client.id", nullable=False)
    sha256: str = Field(max_length=64)
    name: str | None = Field(default=None, max_length=80)
    query: str
    created_at: datetime = created_at_field()
    revoked_at: datetime | None = timestamptz_field()


class Subscription(SQLModel, table=True):
    """An agency's standing request to be told about registry events (DCI subscribe).

    The webhook signing secret is not stored: it is derived from the server secret and
    ``secret_nonce`` (``rnu.agency.service.signing_secret``), shown once at subscription.
    """

    __table_args__ = (CheckConstraint("event_type IN ('DEATH_REGISTERED')", name="event_known"),)

    id: int | None = id_field()
    client_id: int = bigint_fk("api_client.id", nullable=False, index=True)
    event_type: str = Field(max_length=40)
    program_code: str | None = Field(default=None, foreign_key="program.code", max_length=20)
    callback_url: str
    secret_nonce: str = Field(max_length=64)
    created_at: datetime = created_at_field()
    revoked_at: datetime | None = timestamptz_field()


class NotificationDelivery(SQLModel, table=True):
    """One event sent (or being sent) to one subscription; retries update this row."""

    __tablename__ = "notification_delivery"
    __table_args__ = (
        UniqueConstraint("subscription_id", "batch_id"),
        CheckConstraint(
            "status IN ('pending', 'delivered', 'failed', 'empty')", name="status_known"
        ),
    )

    id: int | None = id_field()
    subscription_id: int = bigint_fk("subscription.id", nullable=False, index=True)
    batch_id: int = bigint_fk("load_batch.id", nullable=False)
    event_id: str = Field(max_length=40)
    status: str = Field(
        default="pending", max_length=10, sa_column_kwargs={"server_default": "pending"}
    )
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    record_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    last_status_code: int | None = None
    last_error: str | None = None
    created_at: datetime = created_at_field()
    delivered_at: datetime | None = timestamptz_field()


class AgencyUpload(SQLModel, table=True):
    """A roll file a sector sent through the API (carga), loaded in the background."""

    __tablename__ = "agency_upload"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status_known"),
    )

    id: int | None = id_field()
    client_id: int = bigint_fk("api_client.id", nullable=False, index=True)
    channel: str = Field(
        default="cargas", max_length=10, sa_column_kwargs={"server_default": "cargas"}
    )
    sector: str = Field(max_length=20)
    program_code: str = Field(max_length=20)
    period: str = Field(max_length=7)
    file_name: str
    stored_path: str
    size_bytes: int
    status: str = Field(
        default="queued", max_length=10, sa_column_kwargs={"server_default": "queued"}
    )
    rows_done: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    batch_id: int | None = bigint_fk("load_batch.id")
    counts: dict[str, Any] = jsonb_field()
    error: str | None = None
    created_at: datetime = created_at_field()
    finished_at: datetime | None = timestamptz_field()


class VerificationJob(SQLModel, table=True):
    """A bulk check (verificación): a CSV of documents and which programs each is in."""

    __tablename__ = "verification_job"

    id: int | None = id_field()
    client_id: int = bigint_fk("api_client.id", nullable=False, index=True)
    purpose: str = Field(max_length=40)
    period: str | None = Field(default=None, max_length=7)
    total: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    found: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    invalid: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    result_csv: str = Field(default="", sa_column_kwargs={"server_default": ""})
    created_at: datetime = created_at_field()


class DciTransaction(SQLModel, table=True):
    """A DCI request RNU answered, so `txn/status` can report it later."""

    __tablename__ = "dci_transaction"
    __table_args__ = (UniqueConstraint("client_id", "transaction_id"),)

    id: int | None = id_field()
    client_id: int = bigint_fk("api_client.id", nullable=False)
    transaction_id: str = Field(max_length=100)
    message_id: str = Field(max_length=100)
    action: str = Field(max_length=40)
    status: str = Field(max_length=10)  # succ | rjct | pdng
    reason_code: str | None = Field(default=None, max_length=60)
    summary: dict[str, Any] = jsonb_field()
    upload_id: int | None = bigint_fk("agency_upload.id")
    created_at: datetime = created_at_field()
