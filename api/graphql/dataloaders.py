"""Per-request DataLoaders: one SQL statement per kind of thing, whatever the number of keys.

Named for what they return and keeping key order (Strawberry's DataLoader contract). Each
statement runs through the request's ``guard`` (api.graphql.context.InFlight), since a
DataLoader cancels its batch when every waiting resolver was cancelled.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Sequence
from typing import Protocol, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession
from strawberry.dataloader import DataLoader

from rnu.coverage.models import PersonRecord
from rnu.person import service as person_service
from rnu.person.service import EnrollmentRecord, HouseholdInfo, ProgramRecord

DocumentKey = tuple[str, str]  # (doc_type, number)
T = TypeVar("T")


class Guard(Protocol):
    def __call__(self, work: Awaitable[T], /) -> Awaitable[T]: ...


class Loaders:
    """Every loader of one request, sharing its session."""

    def __init__(self, session: AsyncSession, guard: Guard) -> None:
        self.session = session
        self.guard = guard
        self.person_by_document = DataLoader[DocumentKey, PersonRecord | None](
            load_fn=self._people_by_document
        )
        self.person_by_id = DataLoader[int, PersonRecord | None](load_fn=self._people_by_id)
        self.enrollments_by_person_id = DataLoader[int, list[EnrollmentRecord]](
            load_fn=self._enrollments
        )
        self.household_by_person_id = DataLoader[int, HouseholdInfo | None](
            load_fn=self._households
        )
        self.member_ids_by_household_id = DataLoader[int, list[int]](load_fn=self._members)
        self.program_by_code = DataLoader[str, ProgramRecord | None](load_fn=self._programs)

    async def _people_by_document(self, keys: Sequence[DocumentKey]) -> list[PersonRecord | None]:
        by_type: dict[str, list[str]] = defaultdict(list)
        for doc_type, number in keys:
            by_type[doc_type].append(number)
        found: dict[DocumentKey, PersonRecord | None] = {}
        for doc_type, numbers in by_type.items():
            people = await self.guard(
                person_service.get_by_documents(self.session, numbers=numbers, doc_type=doc_type)
            )
            found.update({(doc_type, n): p for n, p in zip(numbers, people, strict=True)})
        for person in found.values():
            if person is not None:  # prime: members and documents resolve to the same record
                self.person_by_id.prime(person.id, person)
        return [found[k] for k in keys]

    async def _people_by_id(self, keys: Sequence[int]) -> list[PersonRecord | None]:
        return await self.guard(person_service.get_by_ids(self.session, person_ids=keys))

    async def _enrollments(self, keys: Sequence[int]) -> list[list[EnrollmentRecord]]:
        return await self.guard(
            person_service.enrollments_by_person_ids(self.session, person_ids=keys)
        )

    async def _households(self, keys: Sequence[int]) -> list[HouseholdInfo | None]:
        return await self.guard(
            person_service.households_by_person_ids(self.session, person_ids=keys)
        )

    async def _members(self, keys: Sequence[int]) -> list[list[int]]:
        return await self.guard(
            person_service.member_ids_by_household_ids(self.session, household_ids=keys)
        )

    async def _programs(self, keys: Sequence[str]) -> list[ProgramRecord | None]:
        return await self.guard(person_service.programs_by_codes(self.session, codes=keys))
