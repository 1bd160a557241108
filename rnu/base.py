"""Shared table plumbing: the constraint naming convention and column helpers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Identity, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.types import Text
from sqlmodel import Field, SQLModel

# Set before any table is defined so every constraint gets a predictable name that
# migrations can refer to (Polar kit/db/models/base.py).
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def id_field() -> Any:
    """A bigint identity primary key (Citus-friendly, no UUID index bloat on huge tables)."""
    return Field(
        default=None,
        sa_column=Column(BigInteger, Identity(always=False), primary_key=True),
    )


def bigint_ref(*, nullable: bool = True, index: bool = False) -> Any:
    """A bigint reference checked per batch or run, not per row (rnu/ingest/references.py)."""
    return Field(default=None, sa_column=Column(BigInteger, nullable=nullable, index=index))


def bigint_fk(target: str, *, nullable: bool = True, index: bool = False) -> Any:
    from sqlalchemy import ForeignKey

    return Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey(target), nullable=nullable, index=index),
    )


def created_at_field() -> Any:
    return Field(
        default_factory=utcnow,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()")),
    )


def timestamptz_field(*, nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable))


def jsonb_field(*, default: Any = dict) -> Any:
    return Field(
        default_factory=default,
        sa_column=Column(JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    )


def text_array_field() -> Any:
    return Field(
        default_factory=list,
        sa_column=Column(ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    )
