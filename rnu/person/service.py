"""Agency reads of people: by documents in batches of up to 1,000, with enrollments and household.

Each use case takes whole lists and returns plain records (``rnu.coverage.models``, shared
with the citizen self-lookup) keyed in the order asked for. Privacy is not applied here: the
edge passes what it returns through ``privacy.policy`` for the caller.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.coverage.models import HouseholdRecord, PersonRecord
from rnu.errors import InvalidInput
from rnu.normalize.documents import is_valid_dni
from rnu.person import repository

MAX_DOCUMENTS = 1_000
DOC_TYPES = ("DNI", "CE", "CUI")
_PERIOD = re.compile(r"^\d{4}(-(0[1-9]|1[0-2]))?$")
_CE = re.compile(r"^[0-9A-Z]{8,12}$")


EnrollmentRecord = repository.EnrollmentRecord  # the repository's record type


@dataclass(frozen=True, kw_only=True)
class HouseholdInfo:
    """A person's PGH household, with its area (U/R)."""

    record: HouseholdRecord
    area: str | None


ProgramRecord = repository.ProgramRecord  # the repository's record type


def normalize_document(raw: str, doc_type: str = "DNI") -> str:
    """The canonical number of a document; raise InvalidInput when it cannot be one.

    DNI and CUI: 8 digits (a trailing check character or dash is dropped); CE: 8-12
    letters/digits.
    """
    doc_type = doc_type.upper()
    if doc_type not in DOC_TYPES:
        raise InvalidInput(f"document type must be one of {', '.join(DOC_TYPES)}")
    value = raw.strip().upper().replace(" ", "")
    if doc_type in ("DNI", "CUI"):
        value = value.replace("-", "")
        if len(value) == 9 and value[:8].isdigit():
            value = value[:8]
        if not (len(value) == 8 and value.isdigit() and is_valid_dni(value)):
            raise InvalidInput(f"{doc_type} must be 8 digits")
        return value
    if not _CE.match(value):
        raise InvalidInput("CE must be 8 to 12 letters or digits")
    return value


def check_period(period: str | None) -> str | None:
    if period is not None and not _PERIOD.match(period):
        raise InvalidInput("period must be YYYY-MM (or YYYY for yearly programs)")
    return period


async def get_by_documents(
    session: AsyncSession, *, numbers: Sequence[str], doc_type: str = "DNI"
) -> list[PersonRecord | None]:
    """The person holding each number, in the order asked (None when not in the registry).

    When a number has several holders (a PGH duplicate), the PGH one with the lowest id
    answers, the same choice every time.
    """
    if len(numbers) > MAX_DOCUMENTS:
        raise InvalidInput(f"at most {MAX_DOCUMENTS} documents per request")
    wanted = sorted(set(numbers))
    found: dict[str, PersonRecord] = {}
    if wanted:
        for person in await repository.list_by_documents(
            session, doc_type=doc_type.upper(), numbers=wanted
        ):
            found.setdefault(person.doc_number or "", person)
    return [found.get(n) for n in numbers]


async def get_by_ids(
    session: AsyncSession, *, person_ids: Sequence[int]
) -> list[PersonRecord | None]:
    """People by id, in the order asked."""
    rows = await repository.list_by_ids(session, person_ids=sorted(set(person_ids)))
    by_id = {p.id: p for p in rows}
    return [by_id.get(i) for i in person_ids]


async def enrollments_by_person_ids(
    session: AsyncSession, *, person_ids: Sequence[int], period: str | None = None
) -> list[list[EnrollmentRecord]]:
    """Each person's enrollments (of one period when given), in the order asked."""
    check_period(period)
    grouped: dict[int, list[EnrollmentRecord]] = defaultdict(list)
    if person_ids:
        rows = await repository.list_enrollments(
            session, person_ids=sorted(set(person_ids)), period=period
        )
        for row in rows:
            grouped[row.person_id].append(row)
    return [grouped.get(i, []) for i in person_ids]


async def households_by_person_ids(
    session: AsyncSession, *, person_ids: Sequence[int]
) -> list[HouseholdInfo | None]:
    """Each person's PGH household, in the order asked (None when they have none)."""
    rows = await repository.list_households_of(session, person_ids=sorted(set(person_ids)))
    by_person = {pid: HouseholdInfo(record=h, area=area) for pid, h, area in rows}
    return [by_person.get(i) for i in person_ids]


async def member_ids_by_household_ids(
    session: AsyncSession, *, household_ids: Sequence[int]
) -> list[list[int]]:
    """Each household's member person ids, in member order."""
    grouped: dict[int, list[int]] = defaultdict(list)
    for household_id, person_id in await repository.list_member_ids(
        session, household_ids=sorted(set(household_ids))
    ):
        grouped[household_id].append(person_id)
    return [grouped.get(i, []) for i in household_ids]


async def programs_by_codes(
    session: AsyncSession, *, codes: Sequence[str]
) -> list[ProgramRecord | None]:
    rows = await repository.list_programs(session, codes=sorted(set(codes)))
    by_code = {r.code: r for r in rows}
    return [by_code.get(c) for c in codes]


async def list_programs(session: AsyncSession) -> list[ProgramRecord]:
    return await repository.list_programs(session)


@dataclass(frozen=True, kw_only=True)
class PeopleQuery:
    """An expression search over people: every given condition must hold."""

    ubigeo_prefix: str | None = None
    cse: tuple[str, ...] | None = None
    program_code: str | None = None
    period: str | None = None
    birth_before: date | None = None
    birth_after: date | None = None


class TooManyRecords(InvalidInput):
    """The query matches more people than one answer may carry: narrow it."""


async def search(
    session: AsyncSession, *, query: PeopleQuery, page_size: int, page_number: int, max_total: int
) -> tuple[list[PersonRecord], int]:
    """One page of the people matching ``query``; TooManyRecords above ``max_total`` matches.

    At least a place (department or narrower) or a program is required, so the registry
    cannot be walked whole through this door.
    """
    if not (query.ubigeo_prefix or query.program_code):
        raise InvalidInput("an expression search needs a ubigeo or a program")
    if query.ubigeo_prefix and not (
        query.ubigeo_prefix.isdigit() and len(query.ubigeo_prefix) in (2, 4, 6)
    ):
        raise InvalidInput("ubigeo must be 2, 4 or 6 digits")
    if query.cse is not None and not set(query.cse) <= {"PE", "P", "NP"}:
        raise InvalidInput("poverty score (CSE-SISFOH) must be PE, P or NP")
    check_period(query.period)
    if not 1 <= page_size <= 1_000 or page_number < 1:
        raise InvalidInput("page_size must be 1..1000 and page_number at least 1")
    people, total = await repository.search_people(
        session,
        ubigeo_prefix=query.ubigeo_prefix,
        cse=query.cse,
        program_code=query.program_code,
        period=query.period,
        birth_before=query.birth_before,
        birth_after=query.birth_after,
        limit=page_size,
        offset=(page_number - 1) * page_size,
    )
    if total > max_total:
        raise TooManyRecords(f"{total}+ people match; narrow the query (limit {max_total})")
    return people, total
