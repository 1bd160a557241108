"""Factories: build rows with sensible defaults and keyword overrides, add and flush."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.batch.models import LoadBatch
from rnu.enrollment.models import Enrollment, RollRow
from rnu.person.models import Household, HouseholdMember, Person

_seq = itertools.count(1)


async def create_household(session: AsyncSession, **overrides: Any) -> Household:
    n = next(_seq)
    values: dict[str, Any] = {
        "pgh_code": f"H{n:09d}",
        "ubigeo": "150101",
        "area": "U",
        "cse": "P",
        "cse_valid_from": date(2025, 1, 1),
        "cse_valid_to": date(2028, 1, 1),
    }
    values.update(overrides)
    household = Household(**values)
    session.add(household)
    await session.flush()
    return household


async def create_person(
    session: AsyncSession, *, household: Household | None = None, **overrides: Any
) -> Person:
    n = next(_seq)
    values: dict[str, Any] = {
        "doc_type": "DNI",
        "doc_number": f"{40000000 + n:08d}",
        "nombres": "ROSA MARÍA",
        "apellido_paterno": "QUISPE",
        "apellido_materno": "MAMANI",
        "birth_on": date(1980, 5, 17),
        "sex": "F",
        "ubigeo": "150101",
    }
    values.update(overrides)
    if household is not None and "pgh_key" not in values:
        values["pgh_key"] = f"{household.pgh_code}-{n}"
    person = Person(**values)
    session.add(person)
    await session.flush()
    if household is not None:
        assert household.id is not None
        assert person.id is not None
        session.add(
            HouseholdMember(
                person_id=person.id, household_id=household.id, member_number=n, relationship=1
            )
        )
        await session.flush()
    return person


async def create_batch(session: AsyncSession, **overrides: Any) -> LoadBatch:
    n = next(_seq)
    values: dict[str, Any] = {
        "source": "PENSION65",
        "period": "2026-10",
        "file_name": f"pension65_202610_{n}.xlsx",
        "sha256": f"{n:064x}",
        "status": "committed",
    }
    values.update(overrides)
    batch = LoadBatch(**values)
    session.add(batch)
    await session.flush()
    return batch


async def create_enrollment(
    session: AsyncSession,
    *,
    person: Person,
    batch: LoadBatch,
    roll_row: RollRow | None = None,
    **overrides: Any,
) -> Enrollment:
    assert batch.id is not None
    assert person.id is not None
    row = roll_row or RollRow(
        batch_id=batch.id,
        row_number=str(next(_seq)),
        person_id=person.id,
        outcome="linked",
        method="exact_document",
        birth_on=person.birth_on,
    )
    session.add(row)
    await session.flush()
    assert row.id is not None
    values: dict[str, Any] = {
        "person_id": person.id,
        "program_code": batch.source,
        "period": batch.period,
        "batch_id": batch.id,
        "roll_row_id": row.id,
        "match_method": "exact_document",
        "ubigeo": person.ubigeo,
    }
    values.update(overrides)
    enrollment = Enrollment(**values)
    session.add(enrollment)
    await session.flush()
    return enrollment


async def create_roll_row(
    session: AsyncSession, *, batch: LoadBatch, person: Person | None = None, **overrides: Any
) -> RollRow:
    """A loaded roll row (linked to `person` by default) without an enrollment."""
    assert batch.id is not None
    values: dict[str, Any] = {
        "batch_id": batch.id,
        "row_number": str(next(_seq)),
        "person_id": person.id if person else None,
        "outcome": "linked" if person else "unmatched",
        "method": "exact_document" if person else "none",
    }
    if person is not None:
        values.update(
            nombres=person.nombres,
            apellido_paterno=person.apellido_paterno,
            apellido_materno=person.apellido_materno,
            birth_on=person.birth_on,
            sex=person.sex,
            ubigeo=person.ubigeo,
        )
    values.update(overrides)
    row = RollRow(**values)
    session.add(row)
    await session.flush()
    return row


STAFF_PASSWORD = "clave-de-prueba-123"


async def create_staff_user(
    session: AsyncSession,
    *,
    role: str = "analyst",
    password: str = STAFF_PASSWORD,
    **overrides: Any,
) -> Any:
    """A staff account (or volunteer: role="volunteer", organisation=, districts=)."""
    from rnu.staff import service as staff_service

    n = next(_seq)
    values: dict[str, Any] = {"username": f"{role}{n}"}
    if role == "volunteer":
        values.update(organisation="Comité de Vigilancia Ciudadana", districts=["150101"])
    values.update(overrides)
    return await staff_service.create_user(session, role=role, password=password, **values)


async def create_flag(session: AsyncSession, **overrides: Any) -> Any:
    from rnu.flag.models import Flag

    n = next(_seq)
    values: dict[str, Any] = {
        "kind": "deceased",
        "severity": "high",
        "subject_key": f"person:{n}",
        "program_code": "PENSION65",
        "period": "2026-10",
        "ubigeo": "150101",
        "evidence": {"rule": "deceased before the period", "death_on": "2026-08-01"},
        "status": "open",
    }
    values.update(overrides)
    flag = Flag(**values)
    session.add(flag)
    await session.flush()
    return flag


async def create_api_client(
    session: AsyncSession, *, scopes: tuple[str, ...] = ("person:read",), **overrides: Any
) -> tuple[Any, str]:
    """An agency client and its key (agency's service, so keys are hashed as in production)."""
    from rnu.agency import service as agency_service

    n = next(_seq)
    issued = await agency_service.add_client(
        session, agency=overrides.pop("agency", f"AGENCIA-{n}"), scopes=scopes, **overrides
    )
    return issued.client, issued.key
