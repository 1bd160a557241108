"""The one mapping from the registry's records to the privacy layer's views.

Every answer about a person (a citizen's own lookup, an analyst's detail, DCI, GraphQL, bulk
checks) passes through ``privacy.policy`` as a ``PersonView``/``HouseholdView`` built here,
with one set of rules, so what differs between callers is only the policy, never the view:

* the document number is shown as ``dni`` for a DNI *and* a CUI (the CUI is the DNI number of
  a child); a foreigner's CE is never presented as a DNI;
* ``is_minor``: under 18 on ``today``; ``has_disability``: on a disability program (Contigo);
* the person's ``ref`` is keyed on the PGH key, or the row id for people outside the PGH.

Records come as protocols, so the SQLModel tables (``rnu.person.models``) and the read-side
records (``rnu.coverage.models``) both fit without a copy.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Protocol

from privacy.policy import ADULT_AGE, HouseholdView, PersonView
from privacy.programs import is_disability_program
from rnu.audit import service as audit
from rnu.hashing import dni_hmac
from rnu.normalize.dates import age_on

DNI_DOCUMENTS = audit.DNI_DOCUMENTS


class PersonLike(Protocol):
    @property
    def id(self) -> int | None: ...
    @property
    def pgh_key(self) -> str | None: ...
    @property
    def doc_type(self) -> str | None: ...
    @property
    def doc_number(self) -> str | None: ...
    @property
    def nombres(self) -> str | None: ...
    @property
    def apellido_paterno(self) -> str | None: ...
    @property
    def apellido_materno(self) -> str | None: ...
    @property
    def birth_on(self) -> date | None: ...
    @property
    def sex(self) -> str | None: ...
    @property
    def ubigeo(self) -> str | None: ...


class HouseholdLike(Protocol):
    @property
    def pgh_code(self) -> str: ...
    @property
    def ubigeo(self) -> str: ...
    @property
    def cse(self) -> str | None: ...
    @property
    def cse_valid_from(self) -> date | None: ...
    @property
    def cse_valid_to(self) -> date | None: ...


def shown_dni(doc_type: str | None, doc_number: str | None) -> str | None:
    """The number shown as the person's DNI: a DNI's or a CUI's, never a CE's."""
    return doc_number if doc_type in DNI_DOCUMENTS and doc_number else None


def subject_of(secret: bytes, person: PersonLike) -> str | None:
    """The audit subject of a person: the keyed HMAC of their document number."""
    return dni_hmac(secret, person.doc_number) if person.doc_number else None


def is_minor_on(birth_on: date | None, today: date) -> bool:
    """Under 18 on ``today``; an unknown (or impossible, future) birth date is not a minor."""
    if birth_on is None or birth_on > today:
        return False
    return age_on(birth_on, today) < ADULT_AGE


def person_view(
    secret: bytes,
    person: PersonLike,
    *,
    household: HouseholdLike | None = None,
    programs: Iterable[str] = (),
    today: date | None = None,
) -> PersonView:
    """The privacy layer's view of one registry person (programs: the codes they receive)."""
    codes = tuple(sorted(set(programs)))
    return PersonView.build(
        secret,
        person_key=person.pgh_key or f"id:{person.id}",
        dni=shown_dni(person.doc_type, person.doc_number),
        nombres=person.nombres,
        apellido_paterno=person.apellido_paterno,
        apellido_materno=person.apellido_materno,
        birth_date=person.birth_on,
        sex=person.sex,
        ubigeo=person.ubigeo,
        programs=codes,
        cse=household.cse if household else None,
        cse_valid_to=household.cse_valid_to if household else None,
        is_minor=is_minor_on(person.birth_on, today or date.today()),
        has_disability=any(is_disability_program(p) for p in codes),
        household_code=household.pgh_code if household else None,
    )


def household_view(secret: bytes, household: HouseholdLike, *, area: str | None) -> HouseholdView:
    """The household alone; members are resolved one by one through the person policy."""
    return HouseholdView.build(
        secret,
        household_code=household.pgh_code,
        ubigeo=household.ubigeo,
        area=area,
        cse=household.cse,
        cse_valid_from=household.cse_valid_from,
        cse_valid_to=household.cse_valid_to,
    )
