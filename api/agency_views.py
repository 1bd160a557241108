"""Agency answers' views (GraphQL, DCI, bulk checks): adapters onto ``usecases.views``.

Kept for the agency modules that still import it; new code calls ``usecases.views`` (the one
domain → view mapping) directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from privacy.policy import HouseholdView, PersonView
from rnu.coverage.models import PersonRecord
from rnu.person.service import EnrollmentRecord, HouseholdInfo
from usecases import views
from usecases.views import subject_of as subject_of


def person_view(
    secret: bytes,
    person: PersonRecord,
    *,
    household: HouseholdInfo | None,
    enrollments: Sequence[EnrollmentRecord],
    today: date | None = None,
) -> PersonView:
    return views.person_view(
        secret,
        person,
        household=household.record if household else None,
        programs=(e.program_code for e in enrollments),
        today=today,
    )


def household_view(secret: bytes, household: HouseholdInfo) -> HouseholdView:
    return views.household_view(secret, household.record, area=household.area)
