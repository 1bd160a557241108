"""Agency reads of people, in one place: records → views → the caller's policy → audit.

DCI (search, enrolled, death notices), GraphQL and bulk checks (verificaciones) all show an
agency people from the registry. Each used to build the privacy view, apply the policy and
write the audit rows itself, with small differences (a CE holder was audited by DCI but not
by GraphQL; a person without any document by none of them). Here it is done once:

* ``AgencyReads.person`` turns one registry record (with its enrolments and household) into
  what this agency may see, or ``None``: not visible under its policy, *or* no audit subject
  (a record that cannot be written to the access log is never returned);
* the audit subject is the keyed HMAC of the person's document number (DNI, CUI or CE: the
  key the citizen's access log uses), and for a person with no document (an undocumented
  minor) the keyed HMAC of their registry key, so every read leaves a row;
* ``note`` records which fields of whom an answer returned, and ``audit`` writes one row per
  person in one INSERT per distinct field set, at the end of the call.

The reader also counts the people it returned (``returned``), where a per-call bound or a
quota charged by records can be applied (``max_records``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from privacy.policy import HouseholdOut, NotVisible, PersonOut, household_out, person_out
from privacy.roles import Caller, Role
from rnu.agency import service as agency_service
from rnu.agency.models import ApiClient
from rnu.coverage.models import PersonRecord
from rnu.errors import InvalidInput
from rnu.hashing import dni_hmac, keyed
from rnu.person import service as person_service
from rnu.person.service import EnrollmentRecord, HouseholdInfo
from usecases import views

PERSON_KEY_LABEL = b"rnu/person-key/v1\x00"


class TooManyRecords(InvalidInput):
    """One call would return more people than the agency may read in one call."""


@dataclass(frozen=True)
class AgencyActor:
    """Who reads: the agency's policy caller, its name in audit rows, its declared purpose."""

    caller: Caller
    actor_id: str
    purpose: str
    client_id: int

    @classmethod
    def of_client(cls, client: ApiClient, purpose: str) -> AgencyActor:
        """The actor of an agency client (what the API key's authentication builds)."""
        assert client.id is not None
        actor_id = agency_service.actor_id(client)
        caller = Caller(role=Role.AGENCY, scopes=frozenset(client.scopes), actor_id=actor_id)
        return cls(caller=caller, actor_id=actor_id, purpose=purpose, client_id=client.id)


@dataclass(frozen=True)
class PersonRead:
    """One person as this agency may see them."""

    record: PersonRecord
    out: PersonOut
    subject: str
    # Only enrolments in programmes the policy shows this agency (never Contigo without the
    # sensitive scope: being on its roll is itself the disability).
    enrollments: tuple[EnrollmentRecord, ...]
    household: HouseholdInfo | None

    @property
    def programs(self) -> tuple[str, ...]:
        return tuple(self.out.programs or ())


def audit_subject(secret: bytes, person: PersonRecord) -> str:
    """The key of a person in audit rows: their document's HMAC, else their registry key's."""
    if person.doc_number:
        return dni_hmac(secret, person.doc_number)
    key = person.pgh_key or f"id:{person.id}"
    return "p:" + keyed(secret, PERSON_KEY_LABEL, key).hex()


class AgencyReads:
    """The reads of one agency call (one HTTP request, one delivery): policy and audit."""

    def __init__(
        self,
        session: AsyncSession,
        secret: bytes,
        actor: AgencyActor,
        *,
        action: str,
        max_records: int | None = None,
        today: date | None = None,
    ) -> None:
        self.session = session
        self.secret = secret
        self.actor = actor
        self.action = action
        self.max_records = max_records
        self.today = today
        self._fields: dict[str, set[str]] = defaultdict(set)
        self._returned: set[str] = set()

    @property
    def returned(self) -> int:
        """How many distinct people this call has returned so far."""
        return len(self._returned)

    # -- one person -----------------------------------------------------------------------

    def person(
        self,
        record: PersonRecord,
        *,
        enrollments: Sequence[EnrollmentRecord],
        household: HouseholdInfo | None,
    ) -> PersonRead | None:
        """What this agency may see of one person, or None (not visible, or not auditable)."""
        view = views.person_view(
            self.secret,
            record,
            household=household.record if household else None,
            programs=(e.program_code for e in enrollments),
            today=self.today,
        )
        try:
            out = person_out(view, self.actor.caller)
        except NotVisible:
            return None
        subject = audit_subject(self.secret, record)
        if not subject:
            return None
        visible = set(out.programs or ())
        if subject not in self._returned:
            if self.max_records is not None and len(self._returned) >= self.max_records:
                raise TooManyRecords(f"at most {self.max_records} people per call")
            self._returned.add(subject)
        return PersonRead(
            record=record,
            out=out,
            subject=subject,
            enrollments=tuple(e for e in enrollments if e.program_code in visible),
            household=household,
        )

    def household(self, read: PersonRead) -> HouseholdOut | None:
        """The person's household as this agency may see it (None: none, or not visible)."""
        if read.household is None:
            return None
        view = views.household_view(self.secret, read.household.record, area=read.household.area)
        try:
            return household_out(view, self.actor.caller)
        except NotVisible:
            return None

    # -- many people ----------------------------------------------------------------------

    async def people(
        self,
        records: Sequence[PersonRecord | None],
        *,
        period: str | None = None,
        with_household: bool = True,
    ) -> list[PersonRead | None]:
        """Each record (None stays None) through ``person``, with 2 batched queries."""
        ids = [r.id for r in records if r is not None]
        enrollments = await person_service.enrollments_by_person_ids(
            self.session, person_ids=ids, period=period
        )
        households: list[HouseholdInfo | None] = (
            list(await person_service.households_by_person_ids(self.session, person_ids=ids))
            if with_household
            else [None] * len(ids)
        )
        by_id = dict(zip(ids, zip(enrollments, households, strict=True), strict=True))
        out: list[PersonRead | None] = []
        for record in records:
            if record is None:
                out.append(None)
                continue
            person_enrollments, household = by_id[record.id]
            out.append(self.person(record, enrollments=person_enrollments, household=household))
        return out

    async def by_documents(
        self,
        numbers: Sequence[str],
        *,
        doc_type: str = "DNI",
        period: str | None = None,
        with_household: bool = True,
    ) -> list[PersonRead | None]:
        """The holders of these (normalised) document numbers, in order; None: no one visible."""
        records = await person_service.get_by_documents(
            self.session, numbers=list(numbers), doc_type=doc_type
        )
        return await self.people(records, period=period, with_household=with_household)

    # -- audit ----------------------------------------------------------------------------

    def note(self, read: PersonRead | str, fields: Iterable[str]) -> None:
        """Record that these fields of this person were returned."""
        subject = read if isinstance(read, str) else read.subject
        if subject:
            self._fields[subject].update(fields)

    async def audit(self, details: dict[str, object] | None = None) -> int:
        """Write the noted reads: one row per person, one INSERT per distinct field set."""
        groups: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for subject, fields in self._fields.items():
            groups[tuple(sorted(fields))].append(subject)
        written = 0
        for field_set, subjects in groups.items():
            written += await agency_service.audit_reads(
                self.session,
                actor_id=self.actor.actor_id,
                purpose=self.actor.purpose,
                action=self.action,
                subjects=subjects,
                fields=field_set,
                details={"client_id": self.actor.client_id, **(details or {})},
            )
        self._fields.clear()
        return written
