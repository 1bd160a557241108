"""DCI record vocabulary, built from what the privacy policy lets an agency see.

Only fields the policy returned (``PersonOut``/``HouseholdOut``) are mapped, so a record can
never carry more than the agency's audience allows. Used by the DCI routes (search,
enrolled) and by the death-notice push (``usecases.notifications``), which is why it lives
here and not in ``api/dci``.

Record types as spdci spells them (``reg_record_type``): ``Person``, ``Group`` (the PGH
household, ``group_type: Household``), ``Member`` (a person inside a group), and the IBR's
``Beneficiary`` (``programme_identifier``, ``enrollment_status``, ``benefits``, ``member``),
one per enrolment the agency may see.
"""

from __future__ import annotations

from collections.abc import Collection

from pydantic import BaseModel, ConfigDict

from privacy.policy import HouseholdOut
from usecases.agency import PersonRead

POVERTY_SCORE_TYPE = "CSE-SISFOH"
SEX = {"M": "male", "F": "female"}
# RNU's enrolment status → the IBR's EnrollmentStatus wording.
ENROLLMENT_STATUS = {
    "activo": "Active",
    "active": "Active",
    "baja": "Exited",
    "suspendido": "Suspended",
}


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Identifier(Record):
    identifier_type: str
    identifier_value: str


class Name(Record):
    given_name: str | None = None
    surname: str | None = None
    second_surname: str | None = None


class Geo(Record):
    ubigeo: str | None = None


class Address(Record):
    geo: Geo
    area: str | None = None


class AssistanceUnit(Record):
    group_type: str = "Household"
    group_identifier: str


class PovertyScore(Record):
    poverty_score_type: str = POVERTY_SCORE_TYPE
    value: str
    valid_until: str | None = None


class PersonRecord(Record):
    """spdci ``Person`` (the IBR's Person.jsonld names, RNU's extensions noted in docs/dci.md)."""

    identifier: list[Identifier]
    name: Name | None = None
    birth_date: str | None = None
    sex: str | None = None
    address: Address | None = None
    programmes: list[str] = []
    reference: str | None = None
    assistance_unit: AssistanceUnit | None = None
    poverty_score: PovertyScore | None = None
    death_date: str | None = None
    is_minor: bool | None = None
    # The policy fields this record was built from, for the audit row (not serialised).
    _shown: frozenset[str] = frozenset()

    def shown_fields(self) -> frozenset[str]:
        return self._shown


class GroupRecord(Record):
    """spdci ``Group``: the PGH household, with the person asked about as ``member``."""

    group_identifier: str | None = None
    group_type: str = "Household"
    address: Address | None = None
    poverty_score: PovertyScore | None = None
    member: list[PersonRecord]


class DemographicInfo(Record):
    person: PersonRecord


class MemberRecord(Record):
    """spdci ``Member``: a person as a member of their PGH household (group)."""

    member_identifier: list[Identifier]
    demographic_info: DemographicInfo
    group_identifier: str | None = None


class Programme(Record):
    programme_identifier: str
    programme_name: str | None = None


class Benefit(Record):
    benefit_type: str
    benefit_date: str | None = None
    benefit_frequency: str | None = None


class BeneficiaryRecord(Record):
    """IBR ``Beneficiary``: one enrolment of one person in one programme and period."""

    programme_identifier: Programme
    enrollment_status: str
    enrollment_period: str
    benefits: list[Benefit]
    member: PersonRecord


def person_record(read: PersonRead, *, programs: Collection[str] | None = None) -> PersonRecord:
    """The DCI Person record of one read (``programs``: show only these programme codes)."""
    out = read.out
    shown = set(out.model_dump(exclude_none=True)) - {"audience"}
    visible = [p for p in read.programs if programs is None or p in programs]
    record = PersonRecord(
        identifier=[
            Identifier(identifier_type=read.record.doc_type or "DNI", identifier_value=out.dni)
        ]
        if out.dni
        else [],
        name=Name(
            given_name=out.nombres,
            surname=out.apellido_paterno,
            second_surname=out.apellido_materno,
        )
        if out.nombres or out.apellido_paterno or out.apellido_materno
        else None,
        birth_date=out.birth_date.isoformat() if out.birth_date else None,
        sex=SEX.get(out.sex or ""),
        address=Address(geo=Geo(ubigeo=out.ubigeo)) if out.ubigeo else None,
        programmes=visible,
        reference=out.ref,
        assistance_unit=AssistanceUnit(group_identifier=out.household_code)
        if out.household_code
        else None,
        poverty_score=PovertyScore(
            value=out.cse,
            valid_until=out.cse_valid_to.isoformat() if out.cse_valid_to else None,
        )
        if out.cse
        else None,
        is_minor=out.is_minor,
    )
    record._shown = frozenset(shown)
    return record


def group_record(read: PersonRead, household: HouseholdOut) -> GroupRecord:
    """The person's household as a DCI Group, the person as its ``member``."""
    return GroupRecord(
        group_identifier=household.household_code,
        address=Address(geo=Geo(ubigeo=household.ubigeo), area=household.area),
        poverty_score=PovertyScore(value=household.cse) if household.cse else None,
        member=[person_record(read)],
    )


def member_record(read: PersonRead) -> MemberRecord:
    """The person as a Member of their household (``group_identifier`` when shown)."""
    person = person_record(read)
    return MemberRecord(
        member_identifier=person.identifier,
        demographic_info=DemographicInfo(person=person),
        group_identifier=read.out.household_code,
    )


def beneficiary_records(
    read: PersonRead, *, names: dict[str, str] | None = None
) -> list[BeneficiaryRecord]:
    """One IBR Beneficiary per enrolment the agency may see (newest period first)."""
    member = person_record(read)
    return [
        BeneficiaryRecord(
            programme_identifier=Programme(
                programme_identifier=e.program_code,
                programme_name=(names or {}).get(e.program_code),
            ),
            enrollment_status=ENROLLMENT_STATUS.get(e.status.lower(), e.status),
            enrollment_period=e.period,
            benefits=[Benefit(benefit_type=e.program_code, benefit_date=e.period)],
            member=member,
        )
        for e in sorted(read.enrollments, key=lambda e: (e.period, e.program_code), reverse=True)
    ]
