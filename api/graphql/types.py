"""GraphQL types: separate from tables, filled from privacy-policy outputs, paged Relay-style.

A person's fields come from ``privacy.policy.person_out`` for the calling agency; asking for a
field the agency's scopes do not allow is an error on that field (its value is null and the
``errors`` list says which scope is missing), never the data. Every field of a person that is
returned is noted for the request's audit rows.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Sequence
from datetime import date, datetime
from enum import Enum
from typing import Generic, TypeVar

import strawberry

from api.graphql.context import Info
from privacy.policy import HouseholdOut, PersonOut
from privacy.roles import SCOPE_PERSON_READ_SENSITIVE
from rnu.coverage.models import PersonRecord
from rnu.errors import Forbidden, InvalidInput
from rnu.person.service import EnrollmentRecord, ProgramRecord
from usecases.agency import PersonRead

T = TypeVar("T")
MAX_PAGE = 100
DEFAULT_PAGE = 50


# ---------------------------------------------------------------------------------------------
# Relay-style pagination.


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    """The offset after ``cursor`` (0 when None); InvalidInput for a cursor not ours."""
    if cursor is None:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        offset = int(value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("invalid cursor") from exc
    if kind != "o" or offset < 0:
        raise InvalidInput("invalid cursor")
    return offset + 1


def page_bounds(
    first: int | None, after: str | None, *, maximum: int = MAX_PAGE
) -> tuple[int, int]:
    """(start, size) of the page asked for; InvalidInput outside 0..maximum (0: an empty
    page that still has its ``totalCount``, as Relay allows)."""
    size = DEFAULT_PAGE if first is None else first
    if not 0 <= size <= maximum:
        raise InvalidInput(f"first must be between 0 and {maximum}")
    return decode_cursor(after), size


def connection(items: Sequence[T], start: int, total: int) -> Connection[T]:
    """A connection over the page ``items`` that starts at offset ``start`` of ``total``."""
    edges = [Edge(cursor=encode_cursor(start + i), node=item) for i, item in enumerate(items)]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=start + len(items) < total,
            has_previous_page=start > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=total,
    )


def paginate(
    items: Sequence[T], first: int | None, after: str | None, maximum: int = MAX_PAGE
) -> Connection[T]:
    start, size = page_bounds(first, after, maximum=maximum)
    return connection(items[start : start + size], start, len(items))


# ---------------------------------------------------------------------------------------------
# Programs.


@strawberry.type
class Program:
    code: str
    name: str
    sector: str
    unit: str
    latest_period: str | None

    @classmethod
    def from_domain(cls, program: ProgramRecord) -> Program:
        return cls(
            code=program.code,
            name=program.name,
            sector=program.sector,
            unit=program.unit,
            latest_period=program.latest_period,
        )


@strawberry.type
class Enrollment:
    program_code: str
    period: str
    status: str
    ubigeo: str | None

    @strawberry.field
    async def program(self, info: Info) -> Program | None:
        found = await info.context.loaders.program_by_code.load(self.program_code)
        return Program.from_domain(found) if found else None

    @classmethod
    def from_domain(cls, enrollment: EnrollmentRecord) -> Enrollment:
        return cls(
            program_code=enrollment.program_code,
            period=enrollment.period,
            status=enrollment.status,
            ubigeo=enrollment.ubigeo,
        )


# ---------------------------------------------------------------------------------------------
# People and households.


def _forbidden(field: str) -> Forbidden:
    return Forbidden(f"field {field} needs the scope {SCOPE_PERSON_READ_SENSITIVE}")


@strawberry.type
class Household:
    _out: strawberry.Private[HouseholdOut]
    _household_id: strawberry.Private[int]
    _subject: strawberry.Private[str]

    def _get(self, info: Info, name: str) -> object:
        if name not in HouseholdOut.allowed_fields(self._out.audience):
            raise _forbidden(name)
        info.context.reads.note(self._subject, (f"household.{name}",))
        return getattr(self._out, name)

    @strawberry.field
    def ref(self, info: Info) -> str | None:
        return self._get(info, "ref")  # type: ignore[return-value]

    @strawberry.field
    def household_code(self, info: Info) -> str | None:
        return self._get(info, "household_code")  # type: ignore[return-value]

    @strawberry.field
    def ubigeo(self, info: Info) -> str | None:
        return self._get(info, "ubigeo")  # type: ignore[return-value]

    @strawberry.field
    def area(self, info: Info) -> str | None:
        return self._get(info, "area")  # type: ignore[return-value]

    @strawberry.field(description="Socioeconomic class PE/P/NP (needs person:read:sensitive).")
    def cse(self, info: Info) -> str | None:
        return self._get(info, "cse")  # type: ignore[return-value]

    @strawberry.field(description="Start of the CSE's validity (needs person:read:sensitive).")
    def cse_valid_from(self, info: Info) -> date | None:
        return self._get(info, "cse_valid_from")  # type: ignore[return-value]

    @strawberry.field(description="End of the CSE's validity (needs person:read:sensitive).")
    def cse_valid_to(self, info: Info) -> date | None:
        return self._get(info, "cse_valid_to")  # type: ignore[return-value]

    @strawberry.field(description="Members, each through the person policy.")
    async def members(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Person]:
        ids = await info.context.loaders.member_ids_by_household_id.load(self._household_id)
        start, size = page_bounds(first, after)
        page_ids = ids[start : start + size]
        records = await info.context.loaders.person_by_id.load_many(page_ids)
        people = await build_people(info, records)
        return connection([p for p in people if p is not None], start, len(ids))


@strawberry.type
class Person:
    _read: strawberry.Private[PersonRead]

    def _get(self, info: Info, name: str) -> object:
        out = self._read.out
        if name not in PersonOut.allowed_fields(out.audience):
            raise _forbidden(name)
        info.context.reads.note(self._read, (name,))
        return getattr(out, name)

    @strawberry.field(description="Opaque, stable reference to this person.")
    def ref(self, info: Info) -> str | None:
        return self._get(info, "ref")  # type: ignore[return-value]

    @strawberry.field
    def dni(self, info: Info) -> str | None:
        return self._get(info, "dni")  # type: ignore[return-value]

    @strawberry.field
    def nombres(self, info: Info) -> str | None:
        return self._get(info, "nombres")  # type: ignore[return-value]

    @strawberry.field
    def apellido_paterno(self, info: Info) -> str | None:
        return self._get(info, "apellido_paterno")  # type: ignore[return-value]

    @strawberry.field
    def apellido_materno(self, info: Info) -> str | None:
        return self._get(info, "apellido_materno")  # type: ignore[return-value]

    @strawberry.field
    def birth_date(self, info: Info) -> date | None:
        return self._get(info, "birth_date")  # type: ignore[return-value]

    @strawberry.field
    def sex(self, info: Info) -> str | None:
        return self._get(info, "sex")  # type: ignore[return-value]

    @strawberry.field
    def ubigeo(self, info: Info) -> str | None:
        return self._get(info, "ubigeo")  # type: ignore[return-value]

    @strawberry.field
    def is_minor(self, info: Info) -> bool | None:
        return self._get(info, "is_minor")  # type: ignore[return-value]

    @strawberry.field(description="Programs of any period the agency may see.")
    def programs(self, info: Info) -> list[str] | None:
        value = self._get(info, "programs")
        return list(value) if isinstance(value, tuple) else None

    @strawberry.field(description="Household CSE PE/P/NP (needs person:read:sensitive).")
    def cse(self, info: Info) -> str | None:
        return self._get(info, "cse")  # type: ignore[return-value]

    @strawberry.field(description="End of the CSE's validity (needs person:read:sensitive).")
    def cse_valid_to(self, info: Info) -> date | None:
        return self._get(info, "cse_valid_to")  # type: ignore[return-value]

    @strawberry.field(description="Receives a disability program (needs person:read:sensitive).")
    def has_disability(self, info: Info) -> bool | None:
        return self._get(info, "has_disability")  # type: ignore[return-value]

    @strawberry.field(description="Enrollments, newest period first; one period when given.")
    def enrollments(
        self,
        info: Info,
        period: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Enrollment]:
        self._get(info, "programs")  # the same scope as the programs they show
        rows = [
            Enrollment.from_domain(e)
            for e in self._read.enrollments  # only programmes the policy shows this agency
            if period is None or e.period == period
        ]
        info.context.reads.note(self._read, ("enrollments",))
        return paginate(rows, first, after)

    @strawberry.field(description="The person's PGH household.")
    def household(self, info: Info) -> Household | None:
        household = self._read.household
        if household is None or household.record.id is None:
            return None
        out = info.context.reads.household(self._read)
        if out is None:
            return None
        return Household(_out=out, _household_id=household.record.id, _subject=self._read.subject)


async def build_people(info: Info, records: Sequence[PersonRecord | None]) -> list[Person | None]:
    """Person objects for these records through the agency reader (usecases.agency: policy,
    audit subject, the call's record bound), with 2 batched loads."""
    loaders = info.context.loaders
    ids = [r.id for r in records if r is not None]
    enrollments, households = await asyncio.gather(
        loaders.enrollments_by_person_id.load_many(ids),
        loaders.household_by_person_id.load_many(ids),
    )
    by_id = {pid: (e, h) for pid, e, h in zip(ids, enrollments, households, strict=True)}
    out: list[Person | None] = []
    for record in records:
        if record is None:
            out.append(None)
            continue
        person_enrollments, household = by_id[record.id]
        read = info.context.reads.person(
            record, enrollments=person_enrollments, household=household
        )
        out.append(Person(_read=read) if read is not None else None)
    return out


@strawberry.type
class PersonLookup:
    """One document of a batch check: whether it is valid, and who holds it (if anyone)."""

    document: str
    valid: bool
    person: Person | None


# ---------------------------------------------------------------------------------------------
# Coverage and flags.


@strawberry.type
class CoverageArea:
    ubigeo: str
    name: str
    count: int | None = strawberry.field(description="null: suppressed (small cell).")


@strawberry.type
class Coverage:
    program: str
    period: str | None
    level: str
    k: int = strawberry.field(description="Cells below k (and their complements) are hidden.")
    total: int | None
    _areas: strawberry.Private[list[CoverageArea]]

    @strawberry.field
    def areas(self, first: int | None = None, after: str | None = None) -> Connection[CoverageArea]:
        return paginate(self._areas, first, after, maximum=2_000)


@strawberry.type
class Flag:
    id: int
    kind: str
    severity: str
    status: str
    program_code: str | None
    period: str | None
    ubigeo: str | None
    created_at: datetime


@strawberry.input
class FlagFilter:
    kind: str | None = None
    program_code: str | None = None
    period: str | None = None
    ubigeo: str | None = strawberry.field(default=None, description="2, 4 or 6 digits.")
    status: str | None = None
    severity: str | None = None


@strawberry.enum
class DocumentType(Enum):
    DNI = "DNI"
    CE = "CE"
    CUI = "CUI"
