"""SQL for self-lookups: a person by document, their enrollments, household and readers."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.coverage.models import AccessGroup, HouseholdRecord, PersonRecord
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


# The day a read happened is the citizen's day: Peru's (UTC-5 all year, no daylight saving).
LOCAL_TIME_ZONE = "America/Lima"


async def list_reads(
    session: AsyncSession, *, subject_hmac: str, limit: int = 50
) -> list[AccessGroup]:
    """Reads of this subject by anyone but the system, grouped, newest first.

    One group per reader, purpose and Lima day. An agency's reader is its client
    (``agency:<id>:<code>``), named by ``api_client.public_name`` (else its code); a row
    without a declared purpose keeps its action, which says what the reader was doing.
    """
    rows = await run_sql(
        session,
        (
            """
            SELECT a.actor_kind,
                   CASE WHEN a.actor_kind = 'agency' THEN a.actor_id ELSE a.actor_kind END
                     AS reader,
                   max(coalesce(c.public_name, c.agency)) AS agency_name,
                   a.purpose,
                   CASE WHEN a.purpose IS NULL THEN a.action END AS action,
                   (a.at AT TIME ZONE :tz)::date AS day,
                   min(a.at) AS first_at, max(a.at) AS last_at, count(*) AS count
              FROM audit_event a
              LEFT JOIN api_client c
                ON a.actor_kind = 'agency' AND c.id::text = split_part(a.actor_id, ':', 2)
             WHERE a.subject_hmac = :subject AND a.actor_kind <> 'system'
             GROUP BY 1, 2, 4, 5, 6
             ORDER BY last_at DESC
             LIMIT :limit
            """
        ),
        {"subject": subject_hmac, "limit": limit, "tz": LOCAL_TIME_ZONE},
    )
    return [AccessGroup(**row._mapping) for row in rows]
