"""Rolls as the public and volunteers browse them: a district's program roll, page by page.

Which entries may be listed by name is the privacy layer's decision; the caller passes it in
(``adult_on``, ``count_only``) and this module only executes it in SQL, so paging stays exact
and the protected entries are counted over the whole roll instead of per page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.errors import InvalidInput, NotFound
from rnu.normalize.names import fold
from rnu.period import Period
from rnu.roll import repository
from rnu.roll.models import DistrictProgram, RollEntryRecord, RollSlice, roll_entry_key
from rnu.ubigeo.reference import by_inei

PAGE_SIZE = 25
MAX_PAGE = 2000
_PROGRAM = re.compile(r"^[A-Z0-9_]{2,20}$")


def check_place(ubigeo: str) -> str:
    """A known 6-digit INEI district code, else InvalidInput."""
    if not (len(ubigeo) == 6 and ubigeo.isdigit() and by_inei(ubigeo)):
        raise InvalidInput("ubigeo must be a known 6-digit district code")
    return ubigeo


def parse_query(q: str | None) -> tuple[str | None, tuple[str, ...]]:
    """'Juan Q. M***' → ('JUAN', ('Q', 'M')): a first given name and surname initials.

    The public roll shows names as 'JUAN C. Q*** M***', so it can be searched by what it
    shows: the first given name (or its start) and the initials of the surnames.
    """
    if not q:
        return None, ()
    words = [w for w in re.split(r"[\s.*]+", fold(q)) if w and w.isalpha()]
    if not words:
        return None, ()
    return words[0][:30], tuple(w[0] for w in words[1:3])


async def list_roll(
    session: AsyncSession,
    *,
    program_code: str,
    ubigeo: str,
    period: str | None,
    q: str | None = None,
    page: int = 1,
    page_size: int = PAGE_SIZE,
    adult_on: Callable[[str], date | None],
    count_only: bool,
) -> RollSlice:
    """One page of a program's roll in a district (latest period when ``period`` is None).

    ``adult_on(period)`` gives the latest birth date that may be listed (None: any);
    ``count_only`` lists nobody and only counts (programs whose roll itself is sensitive).
    """
    check_place(ubigeo)
    if not _PROGRAM.match(program_code):
        raise InvalidInput("unknown program code")
    if period is not None:
        period = str(Period.parse(period))  # InvalidPeriod (an InvalidInput) when it is not one
    if not 1 <= page <= MAX_PAGE:
        raise InvalidInput(f"page must be between 1 and {MAX_PAGE}")
    if period is None:
        periods = await repository.list_periods(session, program_code=program_code, ubigeo=ubigeo)
        if not periods:
            raise NotFound("no roll for this program in this district")
        period = periods[0]
    total_all = await repository.count_entries(
        session, program_code=program_code, ubigeo=ubigeo, period=period
    )
    entries: list[RollEntryRecord] = []
    listed = 0
    if not count_only:
        given, initials = parse_query(q)
        entries, listed = await repository.list_entries(
            session,
            program_code=program_code,
            ubigeo=ubigeo,
            period=period,
            adult_on=adult_on(period),
            given=given,
            initials=initials,
            limit=page_size,
            offset=(page - 1) * page_size,
        )
        listable_all = (
            listed
            if not q
            else (
                await repository.list_entries(
                    session,
                    program_code=program_code,
                    ubigeo=ubigeo,
                    period=period,
                    adult_on=adult_on(period),
                    given=None,
                    initials=(),
                    limit=0,
                    offset=0,
                )
            )[1]
        )
    else:
        listable_all = 0
    return RollSlice(
        program_code=program_code,
        ubigeo=ubigeo,
        period=period,
        page=page,
        page_size=page_size,
        entries=tuple(entries),
        listed_total=listed,
        not_listed=total_all - listable_all,
    )


async def district_programs(session: AsyncSession, *, ubigeo: str) -> list[DistrictProgram]:
    """The programs with users in a district, at their latest period there."""
    check_place(ubigeo)
    return await repository.list_district_programs(session, ubigeo=ubigeo)


@dataclass(frozen=True)
class ResolvedEntry:
    """Who an opaque entry id points at (internal: never returned to the public)."""

    person_id: int
    enrollment_id: int
    period: str
    ubigeo: str | None


async def resolve_entry(
    session: AsyncSession,
    *,
    program_code: str,
    ubigeo: str,
    entry_id: str,
    entry_id_of: Callable[[str], str],
) -> ResolvedEntry:
    """Find the person behind a public entry id within one program and district.

    Entry ids are keyed HMACs and cannot be inverted, so the district's roll is hashed until one
    matches (a few thousand HMACs at most); NotFound when none does.
    """
    check_place(ubigeo)
    for person_id in await repository.list_person_ids(
        session, program_code=program_code, ubigeo=ubigeo
    ):
        if entry_id_of(roll_entry_key(program_code, person_id)) == entry_id:
            latest = await repository.latest_enrollment(
                session, program_code=program_code, person_id=person_id
            )
            if latest is None:
                break
            enrollment_id, period, place = latest
            return ResolvedEntry(person_id, enrollment_id, period, place)
    raise NotFound("no roll entry with this id in this program and district")


async def entry(
    session: AsyncSession,
    *,
    program_code: str,
    ubigeo: str,
    entry_id: str,
    entry_id_of: Callable[[str], str],
) -> RollEntryRecord:
    """The roll entry behind a public entry id, whole (its latest enrollment); NotFound."""
    resolved = await resolve_entry(
        session,
        program_code=program_code,
        ubigeo=ubigeo,
        entry_id=entry_id,
        entry_id_of=entry_id_of,
    )
    record = await repository.get_entry(session, enrollment_id=resolved.enrollment_id)
    if record is None:
        raise NotFound("no roll entry with this id in this program and district")
    return record


async def periods(session: AsyncSession, *, program_code: str, ubigeo: str) -> list[str]:
    """The periods of a program's roll in a district, newest first (at most 36)."""
    return await repository.list_periods(session, program_code=program_code, ubigeo=ubigeo)
