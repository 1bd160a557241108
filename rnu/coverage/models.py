"""Domain objects of a self-lookup; plain data, before any privacy policy is applied."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from rnu.eligibility.evaluate import Trace


@dataclass(frozen=True, kw_only=True)
class PersonRecord:
    """The registry's person, whole: only the verified holder may see all of it."""

    id: int
    pgh_key: str | None
    doc_type: str | None
    doc_number: str | None
    nombres: str | None
    apellido_paterno: str | None
    apellido_materno: str | None
    birth_on: date | None
    sex: str | None
    ubigeo: str | None
    death_on: date | None


@dataclass(frozen=True, kw_only=True)
class HouseholdRecord:
    """The person's PGH household and its socioeconomic classification window."""

    id: int
    pgh_code: str
    ubigeo: str
    cse: str | None
    cse_valid_from: date | None
    cse_valid_to: date | None

    def cse_in_force(self, on: date) -> bool:
        """True when a CSE exists and its window covers ``on``."""
        if self.cse is None:
            return False
        starts_ok = self.cse_valid_from is None or self.cse_valid_from <= on
        ends_ok = self.cse_valid_to is None or on <= self.cse_valid_to
        return starts_ok and ends_ok


@dataclass(frozen=True, kw_only=True)
class ProgramStatus:
    """A program the person appears in: their latest period against the program's latest.

    ``status`` is ``active`` when the person is on the program's most recent loaded roll, and
    ``not_in_latest`` when they were on an older roll but not on the newest one.
    """

    program_code: str
    program_name: str
    period: str
    latest_period: str | None
    status: str
    enrollment_status: str
    ubigeo: str | None


@dataclass(frozen=True, kw_only=True)
class AccessGroup:
    """Reads of the person's record by one reader, for one purpose, on one day (Lima time).

    A queue page re-read thirteen times in a morning is one line with ``count`` 13, not
    thirteen identical lines. ``reader`` is the agency client's audit name for agencies and
    the kind otherwise (citizens are not told which analyst); ``agency_name`` is the
    agency's public name (its code when it has none). ``purpose`` is the declared purpose
    code; rows written before purposes were required have None and keep their ``action``.
    """

    actor_kind: str
    reader: str
    agency_name: str | None
    purpose: str | None
    action: str | None
    day: date
    first_at: datetime
    last_at: datetime
    count: int


@dataclass(frozen=True, kw_only=True)
class PersonCoverage:
    """Everything a verified citizen learns about themselves in one lookup."""

    person: PersonRecord
    household: HouseholdRecord | None
    programs: tuple[ProgramStatus, ...]
    traces: tuple[Trace, ...]  # the rules engine's, one per program it could judge
    access_log: tuple[AccessGroup, ...]
    # The programs the person is not on, judged at each one's latest roll: where "what else
    # could I receive" comes from (usecases.orientation words and filters them).
    not_received: tuple[Trace, ...] = ()
