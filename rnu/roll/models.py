"""Roll entries and pages before any privacy policy is applied."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


def roll_entry_key(program_code: str, person_id: int) -> str:
    """The key every edge hashes into a public entry id (``privacy.masking.entry_id``).

    One id per person and program, the same in every period, endpoint and role, so a report
    made from any page points at the same person and masks can never be combined.
    """
    return f"{program_code}:{person_id}"


@dataclass(frozen=True, kw_only=True)
class RollEntryRecord:
    """One enrollment with the person's fields, whole."""

    enrollment_id: int
    person_id: int
    entry_key: str
    program_code: str
    period: str
    ubigeo: str
    dni: str | None
    nombres: str | None
    apellido_paterno: str | None
    apellido_materno: str | None
    birth_on: date | None
    sex: str | None


@dataclass(frozen=True, kw_only=True)
class RollSlice:
    """One page of a district's roll plus the counts the page needs.

    ``listed_total`` counts the entries that may be listed and match the search; ``not_listed``
    counts the whole roll's protected entries (minors, protected programs), before suppression.
    """

    program_code: str
    ubigeo: str
    period: str
    page: int
    page_size: int
    entries: tuple[RollEntryRecord, ...]
    listed_total: int
    not_listed: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.listed_total // self.page_size))


@dataclass(frozen=True, kw_only=True)
class DistrictProgram:
    """A program present in a district: its latest period there and how many users."""

    program_code: str
    program_name: str
    period: str
    users: int
