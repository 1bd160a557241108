"""Every role x field of the policy, with exact outputs, and the schema refusing leaks."""

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

from privacy.masking import dni_hmac
from privacy.policy import (
    HOUSEHOLD_POLICY,
    PERSON_POLICY,
    ROLL_POLICY,
    Audience,
    HouseholdOut,
    HouseholdView,
    NotVisible,
    PersonOut,
    PersonView,
    RollEntryOut,
    RollEntryView,
    household_out,
    is_minor_at,
    person_out,
    roll_entry,
    roll_page,
)
from privacy.roles import SCOPE_PERSON_READ, SCOPE_PERSON_READ_SENSITIVE, Caller, Role

SECRET = b"test-secret"
DNI = "01234567"
OTHER_DNI = "87654321"
REF = "70KNVCjGjv5AR76d"
ENTRY_ID = "OW6Gjj-4yvWm8uFK"

PERSON = PersonView.build(
    SECRET,
    person_key="H001-1",
    dni=DNI,
    nombres="JUAN CARLOS",
    apellido_paterno="QUISPE",
    apellido_materno="MAMANI",
    birth_date=date(1980, 5, 17),
    sex="M",
    ubigeo="150101",
    programs=("JUNTOS", "SIS"),
    cse="PE",
    cse_valid_to=date(2026, 12, 31),
    address="JR. LOS PINOS 123",
    household_code="H001",
)
ENTRY = RollEntryView.build(
    SECRET,
    enrollment_key="JUNTOS:2025-06:H001-1",
    dni=DNI,
    nombres="JUAN CARLOS",
    apellido_paterno="QUISPE",
    apellido_materno="MAMANI",
    birth_date=date(1980, 5, 17),
    sex="M",
    ubigeo="150101",
    program="JUNTOS",
    period="2025-06",
    cse="PE",
    cse_valid_to=date(2026, 12, 31),
)

PUBLIC = Caller(Role.PUBLIC)
SELF = Caller(Role.CITIZEN, subject_hmac=dni_hmac(SECRET, DNI))
OTHER_CITIZEN = Caller(Role.CITIZEN, subject_hmac=dni_hmac(SECRET, OTHER_DNI))
LOCAL_VOLUNTEER = Caller(Role.VOLUNTEER, districts=frozenset({"150101", "150102"}), actor_id="v1")
FAR_VOLUNTEER = Caller(Role.VOLUNTEER, districts=frozenset({"080101"}), actor_id="v2")
ANALYST = Caller(Role.ANALYST, actor_id="a1")
AGENCY_NONE = Caller(Role.AGENCY, actor_id="minsa")
AGENCY_READ = Caller(Role.AGENCY, scopes=frozenset({SCOPE_PERSON_READ}), actor_id="minsa")
AGENCY_SENSITIVE_ONLY = Caller(
    Role.AGENCY, scopes=frozenset({SCOPE_PERSON_READ_SENSITIVE}), actor_id="minsa"
)
AGENCY_ALL = Caller(
    Role.AGENCY,
    scopes=frozenset({SCOPE_PERSON_READ, SCOPE_PERSON_READ_SENSITIVE}),
    actor_id="minsa",
)

PERSON_PUBLIC_OUT = {
    "ref": REF,
    "display_name": "JUAN C. Q*** M***",
    "ubigeo": "150101",
    "programs": ["JUNTOS", "SIS"],
}
PERSON_VOLUNTEER_OUT = {
    **PERSON_PUBLIC_OUT,
    "nombres": "JUAN CARLOS",
    "apellido_paterno": "QUISPE",
    "apellido_materno": "MAMANI",
}
PERSON_IDENTITY_OUT = {
    **PERSON_VOLUNTEER_OUT,
    "dni": DNI,
    "birth_date": "1980-05-17",
    "sex": "M",
    "household_code": "H001",
    "is_minor": False,
}
PERSON_ALL_OUT = {
    **PERSON_IDENTITY_OUT,
    "cse": "PE",
    "cse_valid_to": "2026-12-31",
    "has_disability": False,
    "address": "JR. LOS PINOS 123",
}

# Written out by hand, not derived from the policy, so a policy change must change this too.
PERSON_FIELDS_BY_AUDIENCE: dict[Audience, set[str]] = {
    Audience.PUBLIC: {"ref", "display_name", "ubigeo", "programs"},
    Audience.VOLUNTEER_LOCAL: {
        *("ref", "display_name", "ubigeo", "programs"),
        *("nombres", "apellido_paterno", "apellido_materno"),
    },
    Audience.AGENCY_IDENTITY: {
        *("ref", "display_name", "ubigeo", "programs"),
        *("nombres", "apellido_paterno", "apellido_materno"),
        *("dni", "birth_date", "sex", "household_code", "is_minor"),
    },
}
ALL_PERSON_FIELDS = set(PersonOut.model_fields) - {"audience"}
for _audience in (Audience.CITIZEN_SELF, Audience.ANALYST, Audience.AGENCY_SENSITIVE):
    PERSON_FIELDS_BY_AUDIENCE[_audience] = ALL_PERSON_FIELDS

ROLL_FIELDS_BY_AUDIENCE: dict[Audience, set[str]] = {
    Audience.PUBLIC: {"entry_id", "display_name", "program", "ubigeo", "period"},
    Audience.VOLUNTEER_LOCAL: {
        *("entry_id", "display_name", "program", "ubigeo", "period"),
        *("nombres", "apellido_paterno", "apellido_materno"),
    },
    Audience.AGENCY_IDENTITY: {
        *("entry_id", "display_name", "program", "ubigeo", "period"),
        *("nombres", "apellido_paterno", "apellido_materno"),
        *("dni", "birth_date", "sex", "is_minor"),
    },
}
ALL_ROLL_FIELDS = set(RollEntryOut.model_fields) - {"audience"}
for _audience in (Audience.ANALYST, Audience.AGENCY_SENSITIVE):
    ROLL_FIELDS_BY_AUDIENCE[_audience] = ALL_ROLL_FIELDS

HOUSEHOLD_IDENTITY_FIELDS = {
    *("ref", "household_code", "ubigeo", "area", "members", "members_not_shown"),
}
ALL_HOUSEHOLD_FIELDS = set(HouseholdOut.model_fields) - {"audience"}
HOUSEHOLD_FIELDS_BY_AUDIENCE: dict[Audience, set[str]] = {
    Audience.CITIZEN_SELF: ALL_HOUSEHOLD_FIELDS,
    Audience.ANALYST: ALL_HOUSEHOLD_FIELDS,
    Audience.AGENCY_IDENTITY: HOUSEHOLD_IDENTITY_FIELDS,
    Audience.AGENCY_SENSITIVE: ALL_HOUSEHOLD_FIELDS,
}

NEVER_PUBLIC = {"dni", "birth_date", "address", "cse", "cse_valid_to", "has_disability"}


def dumped(model: PersonOut | RollEntryOut) -> dict[str, Any]:
    return model.model_dump(mode="json")


class TestPolicyTables:
    @pytest.mark.parametrize(
        ("audience", "field"),
        [(a, f) for a in PERSON_FIELDS_BY_AUDIENCE for f in sorted(ALL_PERSON_FIELDS)],
    )
    def test_person_field(self, audience: Audience, field: str) -> None:
        expected = field in PERSON_FIELDS_BY_AUDIENCE[audience]
        assert (field in PERSON_POLICY[audience]) is expected
        assert (field in PersonOut.allowed_fields(audience)) is expected

    @pytest.mark.parametrize(
        ("audience", "field"),
        [(a, f) for a in ROLL_FIELDS_BY_AUDIENCE for f in sorted(ALL_ROLL_FIELDS)],
    )
    def test_roll_field(self, audience: Audience, field: str) -> None:
        expected = field in ROLL_FIELDS_BY_AUDIENCE[audience]
        assert (field in ROLL_POLICY[audience]) is expected
        assert (field in RollEntryOut.allowed_fields(audience)) is expected

    @pytest.mark.parametrize(
        ("audience", "field"),
        [(a, f) for a in HOUSEHOLD_FIELDS_BY_AUDIENCE for f in sorted(ALL_HOUSEHOLD_FIELDS)],
    )
    def test_household_field(self, audience: Audience, field: str) -> None:
        expected = field in HOUSEHOLD_FIELDS_BY_AUDIENCE[audience]
        assert (field in HOUSEHOLD_POLICY[audience]) is expected
        assert (field in HouseholdOut.allowed_fields(audience)) is expected

    def test_audiences_each_table_knows(self) -> None:
        # No roll audience of one's own for citizens; no public or volunteer household view.
        assert set(ROLL_POLICY) == set(ROLL_FIELDS_BY_AUDIENCE)
        assert set(PERSON_POLICY) == set(PERSON_FIELDS_BY_AUDIENCE)
        assert set(HOUSEHOLD_POLICY) == set(HOUSEHOLD_FIELDS_BY_AUDIENCE)
        assert set(HOUSEHOLD_POLICY).isdisjoint({Audience.PUBLIC, Audience.VOLUNTEER_LOCAL})

    @pytest.mark.parametrize("audience", [Audience.PUBLIC, Audience.VOLUNTEER_LOCAL])
    def test_public_and_volunteers_never_see_identifiers_or_sensitive(
        self, audience: Audience
    ) -> None:
        assert not NEVER_PUBLIC & set(PERSON_POLICY[audience])
        assert not NEVER_PUBLIC & set(ROLL_POLICY[audience])


class TestPersonOut:
    @pytest.mark.parametrize(
        ("caller", "audience", "expected"),
        [
            (PUBLIC, "public", PERSON_PUBLIC_OUT),
            (OTHER_CITIZEN, "public", PERSON_PUBLIC_OUT),
            (SELF, "citizen_self", PERSON_ALL_OUT),
            (LOCAL_VOLUNTEER, "volunteer_local", PERSON_VOLUNTEER_OUT),
            (FAR_VOLUNTEER, "public", PERSON_PUBLIC_OUT),
            (ANALYST, "analyst", PERSON_ALL_OUT),
            (AGENCY_READ, "agency_identity", PERSON_IDENTITY_OUT),
            (AGENCY_ALL, "agency_sensitive", PERSON_ALL_OUT),
        ],
        ids=[
            "public",
            "other-citizen",
            "self",
            "local-vol",
            "far-vol",
            "analyst",
            "agency-r",
            "agency-rs",
        ],
    )
    def test_exact_output(self, caller: Caller, audience: str, expected: dict[str, Any]) -> None:
        assert dumped(person_out(PERSON, caller)) == {"audience": audience, **expected}

    @pytest.mark.parametrize("caller", [AGENCY_NONE, AGENCY_SENSITIVE_ONLY])
    def test_agency_without_read_scope_sees_nothing(self, caller: Caller) -> None:
        with pytest.raises(NotVisible):
            person_out(PERSON, caller)

    def test_allowed_but_missing_values_are_null_not_absent(self) -> None:
        never_assessed = replace(PERSON, cse=None, cse_valid_to=None, apellido_materno=None)
        out = dumped(person_out(never_assessed, SELF))
        assert (out["cse"], out["cse_valid_to"], out["apellido_materno"]) == (None, None, None)
        assert out["display_name"] == "JUAN C. Q***"


CONTIGO_USER = replace(PERSON, programs=("JUNTOS", "CONTIGO"), has_disability=True)
MINOR = replace(PERSON, birth_date=date(2010, 1, 2), is_minor=True)
# Flags not set: the programs alone say disability / child.
ON_CONTIGO_ROLL = replace(PERSON, programs=("CONTIGO",))
ON_CHILD_PROGRAM = replace(PERSON, programs=("SIS", "QALIWARMA"))


class TestProtectedPersons:
    @pytest.mark.parametrize(
        "view",
        [CONTIGO_USER, MINOR, ON_CONTIGO_ROLL, ON_CHILD_PROGRAM],
        ids=["contigo", "minor", "contigo-program", "child-program"],
    )
    @pytest.mark.parametrize(
        "caller",
        [PUBLIC, OTHER_CITIZEN, LOCAL_VOLUNTEER, FAR_VOLUNTEER],
        ids=["public", "other-citizen", "local-vol", "far-vol"],
    )
    def test_not_visible_to_public_or_volunteers(self, view: PersonView, caller: Caller) -> None:
        with pytest.raises(NotVisible):
            person_out(view, caller)

    def test_disability_stays_hidden_in_programs_without_sensitive_scope(self) -> None:
        out = dumped(person_out(CONTIGO_USER, AGENCY_READ))
        assert out["programs"] == ["JUNTOS"]
        assert "has_disability" not in out

    @pytest.mark.parametrize("caller", [SELF, ANALYST, AGENCY_ALL])
    def test_contigo_user_seen_whole_by_self_analyst_and_sensitive_scope(
        self, caller: Caller
    ) -> None:
        out = dumped(person_out(CONTIGO_USER, caller))
        assert (out["programs"], out["has_disability"]) == (["JUNTOS", "CONTIGO"], True)

    @pytest.mark.parametrize("caller", [SELF, ANALYST, AGENCY_READ, AGENCY_ALL])
    def test_minor_seen_by_self_staff_and_agencies(self, caller: Caller) -> None:
        out = dumped(person_out(MINOR, caller))
        assert (out["dni"], out["is_minor"]) == (DNI, True)


ROLL_PUBLIC_OUT = {
    "entry_id": ENTRY_ID,
    "display_name": "JUAN C. Q*** M***",
    "program": "JUNTOS",
    "ubigeo": "150101",
    "period": "2025-06",
}
ROLL_VOLUNTEER_OUT = {
    **ROLL_PUBLIC_OUT,
    "nombres": "JUAN CARLOS",
    "apellido_paterno": "QUISPE",
    "apellido_materno": "MAMANI",
}
ROLL_IDENTITY_OUT = {
    **ROLL_VOLUNTEER_OUT,
    "dni": DNI,
    "birth_date": "1980-05-17",
    "sex": "M",
    "is_minor": False,
}
ROLL_ALL_OUT = {
    **ROLL_IDENTITY_OUT,
    "cse": "PE",
    "cse_valid_to": "2026-12-31",
    "has_disability": False,
}


class TestRollEntry:
    @pytest.mark.parametrize(
        ("caller", "audience", "expected"),
        [
            (PUBLIC, "public", ROLL_PUBLIC_OUT),
            (SELF, "public", ROLL_PUBLIC_OUT),  # rolls are public documents, even one's own line
            (OTHER_CITIZEN, "public", ROLL_PUBLIC_OUT),
            (LOCAL_VOLUNTEER, "volunteer_local", ROLL_VOLUNTEER_OUT),
            (FAR_VOLUNTEER, "public", ROLL_PUBLIC_OUT),
            (ANALYST, "analyst", ROLL_ALL_OUT),
            (AGENCY_READ, "agency_identity", ROLL_IDENTITY_OUT),
            (AGENCY_ALL, "agency_sensitive", ROLL_ALL_OUT),
        ],
        ids=[
            "public",
            "self",
            "other-citizen",
            "local-vol",
            "far-vol",
            "analyst",
            "agency-r",
            "agency-rs",
        ],
    )
    def test_exact_output(self, caller: Caller, audience: str, expected: dict[str, Any]) -> None:
        out = roll_entry(ENTRY, caller)
        assert out is not None
        assert dumped(out) == {"audience": audience, **expected}

    @pytest.mark.parametrize("caller", [AGENCY_NONE, AGENCY_SENSITIVE_ONLY])
    def test_agency_without_read_scope_lists_nothing(self, caller: Caller) -> None:
        assert roll_entry(ENTRY, caller) is None


PUBLIC_ISH = [PUBLIC, SELF, OTHER_CITIZEN, LOCAL_VOLUNTEER, FAR_VOLUNTEER]
PUBLIC_ISH_IDS = ["public", "self", "other-citizen", "local-vol", "far-vol"]


class TestProtectedEntries:
    @pytest.mark.parametrize(
        "view",
        [
            replace(ENTRY, program="CONTIGO"),
            replace(ENTRY, program="contigo"),
            replace(ENTRY, has_disability=True),  # a Contigo user on another program's roll
            replace(ENTRY, is_minor=True),
            replace(ENTRY, birth_date=date(2007, 6, 2)),  # 17 on 2025-06-01
            replace(ENTRY, birth_date=date(2007, 6, 1), period="2025-05"),
            replace(ENTRY, program="QALIWARMA"),  # a child program, whatever the birth date
            replace(ENTRY, program="Cuna Más", birth_date=None),
        ],
        ids=[
            *("contigo", "contigo-lower", "disability", "minor-flag", "minor-by-date"),
            *("minor-may", "qaliwarma", "cunamas"),
        ],
    )
    @pytest.mark.parametrize("caller", PUBLIC_ISH, ids=PUBLIC_ISH_IDS)
    def test_never_listed_publicly_or_to_volunteers(
        self, view: RollEntryView, caller: Caller
    ) -> None:
        assert roll_entry(view, caller) is None

    def test_turned_18_before_the_period_is_listed(self) -> None:
        out = roll_entry(replace(ENTRY, birth_date=date(2007, 6, 1)), PUBLIC)
        assert out is not None
        assert out.display_name == "JUAN C. Q*** M***"

    def test_contigo_roll_needs_the_sensitive_scope(self) -> None:
        contigo = replace(ENTRY, program="CONTIGO", has_disability=True)
        assert roll_entry(contigo, AGENCY_READ) is None
        out = roll_entry(contigo, AGENCY_ALL)
        assert out is not None
        assert out.has_disability is True

    def test_disabled_person_on_another_roll_is_listed_to_identity_scope(self) -> None:
        # It says nothing of the disability, and the agency may see this person's identity.
        out = roll_entry(replace(ENTRY, has_disability=True), AGENCY_READ)
        assert out is not None
        assert dumped(out) == {"audience": "agency_identity", **ROLL_IDENTITY_OUT}


class TestRollPage:
    def views(self, protected: int, listed: int) -> list[RollEntryView]:
        minors = [replace(ENTRY, entry_id=f"m{n}", is_minor=True) for n in range(protected)]
        adults = [replace(ENTRY, entry_id=f"a{n}") for n in range(listed)]
        return minors + adults

    @pytest.mark.parametrize(
        ("protected", "listed", "not_listed"),
        [(0, 3, 0), (1, 3, None), (9, 3, None), (10, 3, 10), (12, 0, 12)],
    )
    def test_counts_what_it_does_not_list(
        self, protected: int, listed: int, not_listed: int | None
    ) -> None:
        page = roll_page(self.views(protected, listed), PUBLIC)
        assert [e.entry_id for e in page.entries] == [f"a{n}" for n in range(listed)]
        assert page.not_listed == not_listed

    def test_analyst_sees_every_entry(self) -> None:
        page = roll_page(self.views(2, 1), ANALYST)
        assert (len(page.entries), page.not_listed) == (3, 0)

    def test_threshold_can_be_given(self) -> None:
        assert roll_page(self.views(3, 0), PUBLIC, k=3).not_listed == 3


class TestIsMinorAt:
    @pytest.mark.parametrize(
        ("birth_date", "period", "expected"),
        [
            (date(2007, 6, 1), "2025-06", False),  # 18 on the first day
            (date(2007, 6, 2), "2025-06", True),  # 18 only later in the month
            (date(2007, 6, 1), "2025-05", True),
            (date(2007, 6, 1), "202506", False),
            (date(2008, 2, 29), "2026-03", False),
            (date(2008, 2, 29), "2026-02", True),
            (None, "2025-06", False),
        ],
    )
    def test_age_on_first_day_of_period(
        self, birth_date: date | None, period: str, expected: bool
    ) -> None:
        assert is_minor_at(birth_date, period) is expected


class TestConsistency:
    def test_same_person_masks_the_same_way_everywhere(self) -> None:
        person = dumped(person_out(PERSON, PUBLIC))
        entry = roll_entry(ENTRY, PUBLIC)
        assert entry is not None
        assert person["display_name"] == entry.display_name == "JUAN C. Q*** M***"

    def test_views_built_twice_get_the_same_ids(self) -> None:
        again = PersonView.build(
            SECRET,
            person_key="H001-1",
            dni=DNI,
            nombres="X",
            apellido_paterno=None,
            apellido_materno=None,
            birth_date=None,
            sex=None,
            ubigeo=None,
        )
        assert (again.ref, again.dni_hmac) == (PERSON.ref, PERSON.dni_hmac)

    def test_person_ref_and_entry_id_are_unlinkable(self) -> None:
        # Same key, different purposes: a person ref cannot be matched to roll entry ids.
        view = RollEntryView.build(SECRET, enrollment_key="H001-1", dni=DNI, **_entry_fields())
        assert view.entry_id != PERSON.ref


def _entry_fields() -> dict[str, Any]:
    return {
        "nombres": "A",
        "apellido_paterno": None,
        "apellido_materno": None,
        "birth_date": None,
        "sex": None,
        "ubigeo": "150101",
        "program": "JUNTOS",
        "period": "2025-06",
    }


class TestSchemaRefusesLeaks:
    def test_constructing_with_a_denied_field_fails(self) -> None:
        with pytest.raises(ValidationError, match="dni may not be shown to audience public"):
            PersonOut(audience=Audience.PUBLIC, ref=REF, dni=DNI)

    def test_volunteer_schema_refuses_birth_date(self) -> None:
        with pytest.raises(ValidationError, match="birth_date may not be shown"):
            RollEntryOut(audience=Audience.VOLUNTEER_LOCAL, birth_date=date(1980, 5, 17))

    def test_unknown_fields_are_refused(self) -> None:
        with pytest.raises(ValidationError, match="extra_forbidden"):
            PersonOut.model_validate({"audience": "public", "password": "x"})

    def test_instances_are_frozen(self) -> None:
        out = person_out(PERSON, PUBLIC)
        with pytest.raises(ValidationError, match="frozen_instance"):
            out.dni = DNI  # type: ignore[misc]

    def test_a_field_smuggled_past_validation_cannot_be_serialised(self) -> None:
        smuggled = person_out(PERSON, PUBLIC).model_copy(update={"dni": DNI})
        with pytest.raises(PydanticSerializationError, match=r"\['dni'\] may not be shown"):
            smuggled.model_dump_json()

    def test_citizen_self_audience_needs_no_roll_policy(self) -> None:
        with pytest.raises(ValidationError, match="no RollEntryOut policy"):
            RollEntryOut(audience=Audience.CITIZEN_SELF)

    async def test_fastapi_response_has_exactly_the_policy_keys(self) -> None:
        app = FastAPI()

        @app.get("/person")
        async def get_person() -> PersonOut:
            return person_out(PERSON, PUBLIC)

        @app.get("/smuggled", response_model=PersonOut)
        async def get_smuggled() -> dict[str, Any]:
            return {"audience": "public", "ref": REF, "dni": DNI}

        transport = ASGITransport(app=app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get("/person")
            assert response.json() == {"audience": "public", **PERSON_PUBLIC_OUT}
            smuggled = await client.get("/smuggled")
            assert smuggled.status_code == 500
            assert DNI not in smuggled.text


SPOUSE = PersonView.build(
    SECRET,
    person_key="H001-2",
    dni="11111111",
    nombres="ROSA",
    apellido_paterno="HUAMAN",
    apellido_materno="TORRES",
    birth_date=date(1982, 3, 4),
    sex="F",
    ubigeo="150101",
    programs=("JUNTOS",),
)
CHILD = PersonView.build(
    SECRET,
    person_key="H001-3",
    dni="22222222",
    nombres="LUZ",
    apellido_paterno="QUISPE",
    apellido_materno="HUAMAN",
    birth_date=date(2015, 9, 9),
    sex="F",
    ubigeo="150101",
    programs=("QALIWARMA",),
    is_minor=True,
)
HOUSEHOLD = HouseholdView.build(
    SECRET,
    household_code="H001",
    ubigeo="150101",
    area="R",
    cse="PE",
    cse_valid_from=date(2023, 1, 1),
    cse_valid_to=date(2026, 12, 31),
    members=(PERSON, SPOUSE, CHILD),
)
HOUSEHOLD_REF = "3_qOCF72ovwh3L9x"


class TestHouseholdOut:
    def test_citizen_member_sees_own_line_whole_and_relatives_as_public(self) -> None:
        out = dumped_household(household_out(HOUSEHOLD, SELF))
        assert out == {
            "audience": "citizen_self",
            "ref": HOUSEHOLD_REF,
            "household_code": "H001",
            "ubigeo": "150101",
            "area": "R",
            "cse": "PE",
            "cse_valid_from": "2023-01-01",
            "cse_valid_to": "2026-12-31",
            "members": [
                {"audience": "citizen_self", **PERSON_ALL_OUT},
                {
                    "audience": "public",
                    "ref": SPOUSE.ref,
                    "display_name": "ROSA H*** T***",
                    "ubigeo": "150101",
                    "programs": ["JUNTOS"],
                },
            ],
            "members_not_shown": 1,
        }

    def test_agency_identity_scope_gets_no_cse(self) -> None:
        out = dumped_household(household_out(HOUSEHOLD, AGENCY_READ))
        assert out["audience"] == "agency_identity"
        assert {"cse", "cse_valid_from", "cse_valid_to"}.isdisjoint(out)
        assert [m["dni"] for m in out["members"]] == [DNI, "11111111", "22222222"]
        assert out["members_not_shown"] == 0

    @pytest.mark.parametrize(
        ("caller", "audience"), [(ANALYST, "analyst"), (AGENCY_ALL, "agency_sensitive")]
    )
    def test_staff_and_sensitive_scope_see_all(self, caller: Caller, audience: str) -> None:
        out = dumped_household(household_out(HOUSEHOLD, caller))
        assert (out["audience"], out["cse"], len(out["members"])) == (audience, "PE", 3)
        assert out["members"][2]["is_minor"] is True

    @pytest.mark.parametrize(
        "caller",
        [PUBLIC, OTHER_CITIZEN, LOCAL_VOLUNTEER, FAR_VOLUNTEER, AGENCY_NONE, AGENCY_SENSITIVE_ONLY],
        ids=["public", "other-citizen", "local-vol", "far-vol", "agency-none", "agency-s"],
    )
    def test_not_visible(self, caller: Caller) -> None:
        with pytest.raises(NotVisible):
            household_out(HOUSEHOLD, caller)

    def test_household_schema_refuses_cse_for_identity_scope(self) -> None:
        with pytest.raises(ValidationError, match="cse may not be shown"):
            HouseholdOut(audience=Audience.AGENCY_IDENTITY, cse="PE")

    def test_nested_members_are_still_checked(self) -> None:
        smuggled = person_out(SPOUSE, PUBLIC).model_copy(update={"dni": "11111111"})
        household = household_out(HOUSEHOLD, SELF).model_copy(update={"members": (smuggled,)})
        with pytest.raises(PydanticSerializationError, match=r"\['dni'\] may not be shown"):
            household.model_dump_json()


def dumped_household(model: HouseholdOut) -> dict[str, Any]:
    return model.model_dump(mode="json")
