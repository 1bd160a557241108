"""Which fields each caller may see of a person, household or roll entry, and through which mask.

The policy is data: ``PERSON_POLICY``, ``HOUSEHOLD_POLICY`` and ``ROLL_POLICY`` map an audience
to the output fields it may receive, each with the function that produces it from the view. The
response models (``PersonOut``, ``HouseholdOut``, ``RollEntryOut``) are checked against these
tables when they are built and again when they are serialised, so a field an audience may not
see cannot leave the process by accident (an extra key, a later ``model_copy``, a hand-built
instance).

Rules, in short:
- public (and citizens looking at anyone but themselves): masked name, program, district,
  period. Never a DNI, birth date, address, CSE or disability.
- minors (< 18 at the period) and Contigo users (disability) are never listed by name to the
  public or to volunteers: ``roll_entry`` returns None and the caller counts them instead.
- volunteers: full names in their assigned districts, still no DNI, CSE, birth date.
- a citizen verified for one DNI: their own record, whole.
- households: only to a citizen who is a member, to analysts and to agencies (CSE needs the
  sensitive scope); members inside go through the person policy one by one.
- analysts: everything (the caller writes the audit row for each read).
- agencies: ``person:read`` gives identity and programs (Contigo removed, as it discloses a
  disability); ``person:read:sensitive`` adds CSE, disability and address.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import Any, ClassVar, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from privacy import masking
from privacy.programs import is_child_program, is_disability_program
from privacy.roles import SCOPE_PERSON_READ, SCOPE_PERSON_READ_SENSITIVE, Caller, Role
from privacy.suppression import SENSITIVE_K
from rnu.errors import NotVisible as NotVisible  # re-exported: render it as NotFound
from rnu.period import Period

ADULT_AGE = 18


class Audience(StrEnum):
    """What a caller is, relative to one record; the key of the policy tables."""

    PUBLIC = "public"
    VOLUNTEER_LOCAL = "volunteer_local"
    CITIZEN_SELF = "citizen_self"
    ANALYST = "analyst"
    AGENCY_IDENTITY = "agency_identity"
    AGENCY_SENSITIVE = "agency_sensitive"


# ---------------------------------------------------------------------------------------------
# Input shapes: plain data the services fill from domain objects.


@dataclass(frozen=True, kw_only=True)
class PersonView:
    """A person as the registry knows them, before any policy is applied.

    ``ref`` and ``dni_hmac`` are keyed values; build them with ``PersonView.build`` so every
    endpoint derives them the same way.
    """

    ref: str
    dni_hmac: str
    dni: str | None
    nombres: str | None
    apellido_paterno: str | None
    apellido_materno: str | None
    birth_date: date | None
    sex: str | None
    ubigeo: str | None
    programs: tuple[str, ...] = ()
    cse: str | None = None
    cse_valid_to: date | None = None
    is_minor: bool = False
    has_disability: bool = False
    address: str | None = None
    household_code: str | None = None

    @classmethod
    def build(cls, secret: bytes, *, person_key: str, dni: str | None, **fields: Any) -> Self:
        """Derive ``ref`` and ``dni_hmac`` with the shared keyed functions, then build."""
        return cls(
            ref=masking.entry_id(secret, f"person:{person_key}"),
            dni_hmac=masking.dni_hmac(secret, dni) if dni else "",
            dni=dni,
            **fields,
        )


@dataclass(frozen=True, kw_only=True)
class RollEntryView:
    """One enrollment (a person in a program's roll for a period), before any policy."""

    entry_id: str
    dni_hmac: str
    dni: str | None
    nombres: str | None
    apellido_paterno: str | None
    apellido_materno: str | None
    birth_date: date | None
    sex: str | None
    ubigeo: str
    program: str
    period: str
    cse: str | None = None
    cse_valid_to: date | None = None
    is_minor: bool = False
    has_disability: bool = False

    @classmethod
    def build(cls, secret: bytes, *, enrollment_key: str, dni: str | None, **fields: Any) -> Self:
        """Derive ``entry_id`` and ``dni_hmac`` with the shared keyed functions, then build."""
        return cls(
            entry_id=masking.entry_id(secret, enrollment_key),
            dni_hmac=masking.dni_hmac(secret, dni) if dni else "",
            dni=dni,
            **fields,
        )


@dataclass(frozen=True, kw_only=True)
class HouseholdView:
    """A PGH household with its members, before any policy."""

    ref: str
    household_code: str
    ubigeo: str
    area: str | None
    cse: str | None
    cse_valid_from: date | None = None
    cse_valid_to: date | None = None
    members: tuple[PersonView, ...] = ()

    @classmethod
    def build(cls, secret: bytes, *, household_code: str, **fields: Any) -> Self:
        """Derive ``ref`` with the shared keyed function, then build."""
        return cls(
            ref=masking.entry_id(secret, f"household:{household_code}"),
            household_code=household_code,
            **fields,
        )


def is_minor_at(birth_date: date | None, period: str) -> bool:
    """True when the person is under 18 on the first day of the period ``YYYY-MM``.

    The first day is the conservative choice: someone turning 18 during the month is still
    treated as a minor for that whole period.
    """
    if birth_date is None:
        return False
    start = Period.parse(period, compact=True).first_day
    had_birthday = (start.month, start.day) >= (birth_date.month, birth_date.day)
    return start.year - birth_date.year - (not had_birthday) < ADULT_AGE


def _is_protected_entry(view: RollEntryView) -> bool:
    return (
        view.is_minor
        or view.has_disability
        or is_disability_program(view.program)
        or is_child_program(view.program)
        or is_minor_at(view.birth_date, view.period)
    )


def _is_protected_person(view: PersonView) -> bool:
    return (
        view.is_minor
        or view.has_disability
        or any(is_disability_program(p) or is_child_program(p) for p in view.programs)
    )


# ---------------------------------------------------------------------------------------------
# The policy tables.

PersonRule = Callable[[PersonView], object]
RollRule = Callable[[RollEntryView], object]


def _display_name(view: PersonView | RollEntryView) -> str:
    return masking.mask_name(view.nombres, view.apellido_paterno, view.apellido_materno)


def _programs_without_disability(view: PersonView) -> tuple[str, ...]:
    return tuple(p for p in view.programs if not is_disability_program(p))


def _person_field(name: str) -> PersonRule:
    def get(view: PersonView) -> object:
        return getattr(view, name)

    return get


def _roll_field(name: str) -> RollRule:
    def get(view: RollEntryView) -> object:
        return getattr(view, name)

    return get


def _person_fields(*names: str) -> dict[str, PersonRule]:
    return {name: _person_field(name) for name in names}


def _roll_fields(*names: str) -> dict[str, RollRule]:
    return {name: _roll_field(name) for name in names}


_PERSON_PUBLIC: dict[str, PersonRule] = {
    **_person_fields("ref", "ubigeo", "programs"),
    "display_name": _display_name,
}
_PERSON_VOLUNTEER: dict[str, PersonRule] = {
    **_PERSON_PUBLIC,
    **_person_fields("nombres", "apellido_paterno", "apellido_materno"),
}
_PERSON_IDENTITY: dict[str, PersonRule] = {
    **_PERSON_VOLUNTEER,
    **_person_fields("dni", "birth_date", "sex", "household_code", "is_minor"),
    "programs": _programs_without_disability,
}
_PERSON_ALL: dict[str, PersonRule] = {
    **_PERSON_IDENTITY,
    **_person_fields("programs", "cse", "cse_valid_to", "has_disability", "address"),
}

PERSON_POLICY: Mapping[Audience, Mapping[str, PersonRule]] = MappingProxyType(
    {
        Audience.PUBLIC: MappingProxyType(_PERSON_PUBLIC),
        Audience.VOLUNTEER_LOCAL: MappingProxyType(_PERSON_VOLUNTEER),
        Audience.CITIZEN_SELF: MappingProxyType(_PERSON_ALL),
        Audience.ANALYST: MappingProxyType(_PERSON_ALL),
        Audience.AGENCY_IDENTITY: MappingProxyType(_PERSON_IDENTITY),
        Audience.AGENCY_SENSITIVE: MappingProxyType(_PERSON_ALL),
    }
)

_ROLL_PUBLIC: dict[str, RollRule] = {
    **_roll_fields("entry_id", "program", "ubigeo", "period"),
    "display_name": _display_name,
}
_ROLL_VOLUNTEER: dict[str, RollRule] = {
    **_ROLL_PUBLIC,
    **_roll_fields("nombres", "apellido_paterno", "apellido_materno"),
}
_ROLL_IDENTITY: dict[str, RollRule] = {
    **_ROLL_VOLUNTEER,
    **_roll_fields("dni", "birth_date", "sex", "is_minor"),
}
_ROLL_ALL: dict[str, RollRule] = {
    **_ROLL_IDENTITY,
    **_roll_fields("cse", "cse_valid_to", "has_disability"),
}

ROLL_POLICY: Mapping[Audience, Mapping[str, RollRule]] = MappingProxyType(
    {
        Audience.PUBLIC: MappingProxyType(_ROLL_PUBLIC),
        Audience.VOLUNTEER_LOCAL: MappingProxyType(_ROLL_VOLUNTEER),
        Audience.ANALYST: MappingProxyType(_ROLL_ALL),
        Audience.AGENCY_IDENTITY: MappingProxyType(_ROLL_IDENTITY),
        Audience.AGENCY_SENSITIVE: MappingProxyType(_ROLL_ALL),
    }
)


HouseholdRule = Callable[[HouseholdView, Caller], object]


def _household_field(name: str) -> HouseholdRule:
    def get(view: HouseholdView, caller: Caller) -> object:
        return getattr(view, name)

    return get


def _visible_members(view: HouseholdView, caller: Caller) -> tuple[PersonOut, ...]:
    shown = (_person_or_none(member, caller) for member in view.members)
    return tuple(out for out in shown if out is not None)


def _hidden_members(view: HouseholdView, caller: Caller) -> int:
    return len(view.members) - len(_visible_members(view, caller))


# Members go through the person policy one by one, with the same caller: a citizen sees their
# own line whole, adult relatives as the public does, and minors or Contigo users not at all.
_HOUSEHOLD_IDENTITY: dict[str, HouseholdRule] = {
    **{name: _household_field(name) for name in ("ref", "household_code", "ubigeo", "area")},
    "members": _visible_members,
    "members_not_shown": _hidden_members,
}
_HOUSEHOLD_ALL: dict[str, HouseholdRule] = {
    **_HOUSEHOLD_IDENTITY,
    **{name: _household_field(name) for name in ("cse", "cse_valid_from", "cse_valid_to")},
}

# Households are never public, nor shown to volunteers: a household is where minors live.
HOUSEHOLD_POLICY: Mapping[Audience, Mapping[str, HouseholdRule]] = MappingProxyType(
    {
        Audience.CITIZEN_SELF: MappingProxyType(_HOUSEHOLD_ALL),
        Audience.ANALYST: MappingProxyType(_HOUSEHOLD_ALL),
        Audience.AGENCY_IDENTITY: MappingProxyType(_HOUSEHOLD_IDENTITY),
        Audience.AGENCY_SENSITIVE: MappingProxyType(_HOUSEHOLD_ALL),
    }
)

# ---------------------------------------------------------------------------------------------
# Response models: every field optional, the audience decides which may be set.


class PolicyModel(BaseModel):
    """A response whose allowed fields are those of its audience in ``_policy``.

    Building it with a field the audience may not see fails; serialising drops every field the
    audience may not see, so the output keys are exactly the policy's (plus ``audience``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    _policy: ClassVar[Mapping[Audience, Mapping[str, Callable[..., object]]]]

    audience: Audience

    @classmethod
    def allowed_fields(cls, audience: Audience) -> frozenset[str]:
        """The output fields this audience may receive."""
        return frozenset(cls._policy[audience])

    @model_validator(mode="after")
    def _only_allowed(self) -> Self:
        if self.audience not in self._policy:
            raise ValueError(f"no {type(self).__name__} policy for audience {self.audience}")
        allowed = self.allowed_fields(self.audience)
        for name in type(self).model_fields:
            if name != "audience" and name not in allowed and getattr(self, name) is not None:
                raise ValueError(f"{name} may not be shown to audience {self.audience}")
        return self

    # No return annotation on purpose: one would replace the field list in the OpenAPI schema.
    @model_serializer(mode="wrap")
    def _drop_denied(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        allowed = self.allowed_fields(self.audience) | {"audience"}
        data = handler(self)
        denied = {k for k, v in data.items() if k not in allowed and v is not None}
        if denied:
            # Reached only by bypassing validation (model_copy(update=...), model_construct).
            raise ValueError(f"{sorted(denied)} may not be shown to audience {self.audience}")
        return {k: v for k, v in data.items() if k in allowed}


class PersonOut(PolicyModel):
    """A person as one audience may see them; the keys present depend on the audience."""

    _policy = PERSON_POLICY

    ref: str | None = None
    display_name: str | None = None
    dni: str | None = None
    nombres: str | None = None
    apellido_paterno: str | None = None
    apellido_materno: str | None = None
    birth_date: date | None = None
    sex: str | None = None
    ubigeo: str | None = None
    address: str | None = None
    household_code: str | None = None
    programs: tuple[str, ...] | None = None
    cse: str | None = None
    cse_valid_to: date | None = None
    has_disability: bool | None = None
    is_minor: bool | None = None


class RollEntryOut(PolicyModel):
    """One roll entry as one audience may see it."""

    _policy = ROLL_POLICY

    entry_id: str | None = None
    display_name: str | None = None
    dni: str | None = None
    nombres: str | None = None
    apellido_paterno: str | None = None
    apellido_materno: str | None = None
    birth_date: date | None = None
    sex: str | None = None
    program: str | None = None
    ubigeo: str | None = None
    period: str | None = None
    cse: str | None = None
    cse_valid_to: date | None = None
    has_disability: bool | None = None
    is_minor: bool | None = None


class HouseholdOut(PolicyModel):
    """A household as one audience may see it, members filtered one by one."""

    _policy = HOUSEHOLD_POLICY

    ref: str | None = None
    household_code: str | None = None
    ubigeo: str | None = None
    area: str | None = None
    cse: str | None = None
    cse_valid_from: date | None = None
    cse_valid_to: date | None = None
    members: tuple[PersonOut, ...] | None = None
    members_not_shown: int | None = None


def _check_schema(model: type[PolicyModel]) -> None:
    """Fail at import when a policy names a field the model lacks, or the reverse."""
    declared = set(model.model_fields) - {"audience"}
    used = set().union(*(set(rules) for rules in model._policy.values()))
    if declared != used:
        raise RuntimeError(f"{model.__name__} fields and policy differ: {declared ^ used}")


_check_schema(PersonOut)
_check_schema(RollEntryOut)
_check_schema(HouseholdOut)


# ---------------------------------------------------------------------------------------------
# Choosing the audience, and applying the policy.


def _same_subject(caller: Caller, dni_hmac: str) -> bool:
    return bool(caller.subject_hmac and dni_hmac) and hmac.compare_digest(
        caller.subject_hmac or "", dni_hmac
    )


def _agency_audience(caller: Caller) -> Audience | None:
    if not caller.has_scope(SCOPE_PERSON_READ):
        return None
    if caller.has_scope(SCOPE_PERSON_READ_SENSITIVE):
        return Audience.AGENCY_SENSITIVE
    return Audience.AGENCY_IDENTITY


def person_audience(view: PersonView, caller: Caller) -> Audience | None:
    """The audience this caller is for this person; None when they may not see them at all."""
    if caller.role is Role.ANALYST:
        return Audience.ANALYST
    if caller.role is Role.AGENCY:
        return _agency_audience(caller)
    if caller.role is Role.CITIZEN and _same_subject(caller, view.dni_hmac):
        return Audience.CITIZEN_SELF
    if _is_protected_person(view):
        return None
    if caller.role is Role.VOLUNTEER and view.ubigeo in caller.districts:
        return Audience.VOLUNTEER_LOCAL
    return Audience.PUBLIC


def roll_audience(view: RollEntryView, caller: Caller) -> Audience | None:
    """The audience this caller is for this roll entry; None when it must not be listed."""
    if caller.role is Role.ANALYST:
        return Audience.ANALYST
    if caller.role is Role.AGENCY:
        audience = _agency_audience(caller)
        if audience is Audience.AGENCY_IDENTITY and is_disability_program(view.program):
            return None  # being on the Contigo roll is itself the disability
        return audience
    # Rolls are public documents: a citizen sees them as the public does, even their own entry
    # (their whole record is person_out's job).
    if _is_protected_entry(view):
        return None
    if caller.role is Role.VOLUNTEER and view.ubigeo in caller.districts:
        return Audience.VOLUNTEER_LOCAL
    return Audience.PUBLIC


def roll_entry(view: RollEntryView, caller: Caller) -> RollEntryOut | None:
    """The entry as the caller may see it, or None: not listed, only counted."""
    audience = roll_audience(view, caller)
    if audience is None:
        return None
    rules = ROLL_POLICY[audience]
    return RollEntryOut(audience=audience, **{name: rule(view) for name, rule in rules.items()})


def person_out(view: PersonView, caller: Caller) -> PersonOut:
    """The person as the caller may see them; raise NotVisible when they may not at all."""
    audience = person_audience(view, caller)
    if audience is None:
        raise NotVisible("person not visible to this caller")
    rules = PERSON_POLICY[audience]
    return PersonOut(audience=audience, **{name: rule(view) for name, rule in rules.items()})


@dataclass(frozen=True)
class RollPage:
    """A roll as one caller may see it: the listed entries, and how many are only counted."""

    entries: tuple[RollEntryOut, ...]
    not_listed: int | None  # None: between 1 and k-1, too few to say how many


def roll_page(views: Iterable[RollEntryView], caller: Caller, *, k: int = SENSITIVE_K) -> RollPage:
    """Apply ``roll_entry`` to a page of entries and count the ones it must not list.

    The count is of minors and Contigo users, so it gets the sensitive threshold: "2 not listed"
    on a small district's page would nearly name them.
    """
    entries: list[RollEntryOut] = []
    hidden = 0
    for view in views:
        entry = roll_entry(view, caller)
        if entry is None:
            hidden += 1
        else:
            entries.append(entry)
    return RollPage(entries=tuple(entries), not_listed=None if 0 < hidden < k else hidden)


def _person_or_none(view: PersonView, caller: Caller) -> PersonOut | None:
    try:
        return person_out(view, caller)
    except NotVisible:
        return None


def household_audience(view: HouseholdView, caller: Caller) -> Audience | None:
    """The audience this caller is for this household; None when they may not see it."""
    if caller.role is Role.ANALYST:
        return Audience.ANALYST
    if caller.role is Role.AGENCY:
        return _agency_audience(caller)
    if caller.role is Role.CITIZEN and any(
        _same_subject(caller, member.dni_hmac) for member in view.members
    ):
        return Audience.CITIZEN_SELF
    return None


def household_out(view: HouseholdView, caller: Caller) -> HouseholdOut:
    """The household as the caller may see it; raise NotVisible when they may not at all."""
    audience = household_audience(view, caller)
    if audience is None:
        raise NotVisible("household not visible to this caller")
    rules = HOUSEHOLD_POLICY[audience]
    return HouseholdOut(
        audience=audience, **{name: rule(view, caller) for name, rule in rules.items()}
    )
