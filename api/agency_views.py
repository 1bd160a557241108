"""Domain records → privacy views for agency answers (GraphQL, DCI, bulk checks).

One place builds the ``PersonView``/``HouseholdView`` every agency endpoint passes through
``privacy.policy``, so REST, DCI and GraphQL show an agency exactly the same fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from privacy.policy import HouseholdView, PersonView
from privacy.programs import is_disability_program
from rnu.coverage.models import PersonRecord
from rnu.hashing import dni_hmac
from rnu.normalize.dates import age_on
from rnu.person.service import EnrollmentRecord, HouseholdInfo

ADULT = 18


def subject_of(secret: bytes, person: PersonRecord) -> str | None:
    """The audit subject of a person: the HMAC of their document number."""
    return dni_hmac(secret, person.doc_number) if person.doc_number else None


def person_view(
    secret: bytes,
    person: PersonRecord,
    *,
    household: HouseholdInfo | None,
    enrollments: Sequence[EnrollmentRecord],
    today: date | None = None,
) -> PersonView:
    today = today or date.today()
    programs = tuple(sorted({e.program_code for e in enrollments}))
    is_minor = bool(person.birth_on and age_on(person.birth_on, today) < ADULT)
    return PersonView.build(
        secret,
        person_key=person.pgh_key or f"id:{person.id}",
        dni=person.doc_number if person.doc_type in ("DNI", "CUI") else None,
        nombres=person.nombres,
        apellido_paterno=person.apellido_paterno,
        apellido_materno=person.apellido_materno,
        birth_date=person.birth_on,
        sex=person.sex,
        ubigeo=person.ubigeo,
        programs=programs,
        cse=household.record.cse if household else None,
        cse_valid_to=household.record.cse_valid_to if household else None,
        is_minor=is_minor,
        has_disability=any(is_disability_program(p) for p in programs),
        household_code=household.record.pgh_code if household else None,
    )


def household_view(secret: bytes, household: HouseholdInfo) -> HouseholdView:
    """The household alone; members are resolved one by one through the person policy."""
    h = household.record
    return HouseholdView.build(
        secret,
        household_code=h.pgh_code,
        ubigeo=h.ubigeo,
        area=household.area,
        cse=h.cse,
        cse_valid_from=h.cse_valid_from,
        cse_valid_to=h.cse_valid_to,
    )
