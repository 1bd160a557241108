"""People and households of the registry (the PGH, plus program users not found in it)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from rnu.base import bigint_fk, created_at_field, id_field


class Household(SQLModel, table=True):
    """A PGH household with its socioeconomic classification and the window it is valid in."""

    __table_args__ = (
        CheckConstraint("cse IN ('PE', 'P', 'NP')", name="cse_known"),
        CheckConstraint("area IN ('U', 'R')", name="area_known"),
        CheckConstraint(
            "cse_valid_from IS NULL OR cse_valid_to IS NULL OR cse_valid_from <= cse_valid_to",
            name="cse_window_ordered",
        ),
    )

    id: int | None = id_field()
    pgh_code: str = Field(unique=True)
    ubigeo: str = Field(max_length=6, index=True)
    area: str = Field(max_length=1)
    cse: str | None = Field(default=None, max_length=2)  # None: never evaluated
    cse_valid_from: date | None = None
    cse_valid_to: date | None = None
    source_batch_id: int | None = bigint_fk("load_batch.id")
    created_at: datetime = created_at_field()


class Person(SQLModel, table=True):
    """One person. `pgh_key` is CO_HOGAR-NU_ORDEN for PGH people, None for others."""

    __table_args__ = (
        CheckConstraint("doc_type IN ('DNI', 'CE', 'CUI')", name="doc_type_known"),
        CheckConstraint("sex IN ('M', 'F')", name="sex_known"),
        CheckConstraint("(doc_type IS NULL) = (doc_number IS NULL)", name="doc_complete"),
        Index("ix_person_document", "doc_number", "doc_type"),
        Index("ix_person_birth_sex", "birth_on", "sex"),
    )

    id: int | None = id_field()
    pgh_key: str | None = Field(default=None, unique=True)
    in_pgh: bool = Field(default=True, sa_column_kwargs={"server_default": "true"})
    doc_type: str | None = Field(default=None, max_length=3)
    doc_number: str | None = Field(default=None, max_length=12)
    nombres: str
    apellido_paterno: str
    apellido_materno: str | None = None
    birth_on: date | None = None
    sex: str | None = Field(default=None, max_length=1)
    ubigeo: str | None = Field(default=None, max_length=6)
    death_on: date | None = None
    created_at: datetime = created_at_field()


class HouseholdMember(SQLModel, table=True):
    """A person's place in a PGH household (NU_ORDEN and PARENTESCO)."""

    __tablename__ = "household_member"
    __table_args__ = (UniqueConstraint("household_id", "member_number"),)

    person_id: int | None = Field(default=None, primary_key=True, foreign_key="person.id")
    household_id: int = Field(foreign_key="household.id", index=True)
    member_number: int
    relationship: int | None = None  # 1 jefe, 2 cónyuge, 3 hijo/a, …


class DeathRecord(SQLModel, table=True):
    """A death as RENIEC reported it; kept even when the DNI is not (yet) in the registry."""

    __tablename__ = "death_record"
    __table_args__ = (UniqueConstraint("batch_id", "row_number"),)

    id: int | None = id_field()
    batch_id: int = Field(foreign_key="load_batch.id", index=True)
    row_number: str
    dni: str = Field(max_length=8, index=True)
    death_on: date
