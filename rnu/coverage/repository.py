"""SQL for self-lookups: a person by document, their enrollments, household and readers."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.coverage.models import AccessEntry, HouseholdRecord, PersonRecord
from rnu.sqlexec import run_sql

_PERSON_COLUMNS = (
    "id, pgh_key, doc_type, doc_number, nombres, apellido_paterno, apellido_materno, "
    "birth_on, sex, ubigeo, death_on"
)


async def list_by_document(session: AsyncSession, *, number: str) -> list[PersonRecord]:
    """People holding this DNI/CUI number (more than one only when the PGH has duplicates)."""
    rows = await run_sql(
        session,
        (
            f"SELECT {_PERSON_COLUMNS} FROM person "
            "WHERE doc_number = :number AND doc_type IN ('DNI', 'CUI') ORDER BY id LIMIT 5"
        ),
        {"number": number},
    )
    return [PersonRecord(**row._mapping) for row in rows]


async def get_household(session: AsyncSession, *, person_id: int) -> HouseholdRecord | None:
    row = (
        await run_sql(
            session,
            (
                "SELECT h.id, h.pgh_code, h.ubigeo, h.cse, h.cse_valid_from, h.cse_valid_to "
                "FROM household_member m JOIN household h ON h.id = m.household_id "
                "WHERE m.person_id = :person_id"
            ),
            {"person_id": person_id},
        )
    ).first()
    return HouseholdRecord(**row._mapping) if row else None


async def list_latest_enrollments(
    session: AsyncSession, *, person_id: int
) -> list[dict[str, object]]:
    """Per program, the person's latest enrollment and the program's latest committed period."""
    rows = await run_sql(
        session,
        (
            """
            SELECT DISTINCT ON (e.program_code)
                   e.program_code, p.name AS program_name, e.period, e.status, e.ubigeo,
                   (SELECT max(b.period) FROM load_batch b
                     WHERE b.source = e.program_code AND b.status = 'committed') AS latest_period
              FROM enrollment e JOIN program p ON p.code = e.program_code
             WHERE e.person_id = :person_id
             ORDER BY e.program_code, e.period DESC
            """
        ),
        {"person_id": person_id},
    )
    return [dict(row._mapping) for row in rows]


async def list_programs_in_period(
    session: AsyncSession, *, person_id: int, period: str
) -> list[str]:
    rows = await run_sql(
        session,
        ("SELECT program_code FROM enrollment WHERE person_id = :person_id AND period = :period"),
        {"person_id": person_id, "period": period},
    )
    return [str(r[0]) for r in rows]


async def list_reads(
    session: AsyncSession, *, subject_hmac: str, limit: int = 50
) -> list[AccessEntry]:
    """Reads of this subject by anyone but the system, newest first."""
    rows = await run_sql(
        session,
        (
            "SELECT at, actor_kind, actor_id, action, purpose FROM audit_event "
            "WHERE subject_hmac = :subject AND actor_kind <> 'system' "
            "ORDER BY at DESC LIMIT :limit"
        ),
        {"subject": subject_hmac, "limit": limit},
    )
    return [AccessEntry(**row._mapping) for row in rows]
