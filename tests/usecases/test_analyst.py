"""usecases.analyst: the analysts' jobs, called the way both edges call them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from privacy.masking import dni_hmac
from privacy.roles import Caller, Role
from rnu.audit.models import AuditEvent
from rnu.audit.service import Actor
from rnu.errors import Forbidden, InvalidInput, NotFound, PurposeRequired
from rnu.flag.models import Flag
from rnu.sqlexec import execute
from rnu.staff.models import FlagEvent
from tests.factories import create_flag, create_household, create_person
from usecases import analyst as analyst_uc
from usecases.analyst import ActionIn, Analyst, FlagAction, QueueQuery
from usecases.context import FixedClock

SECRET = b"analyst-usecase-test-secret"
TODAY = datetime(2026, 11, 15, 12, tzinfo=UTC)


def analyst(session: AsyncSession, role: str = "analyst") -> Analyst:
    return Analyst(
        session=session,
        secret=SECRET,
        actor=Actor(kind="analyst", id=f"{role}:ana"),
        caller=Caller(role=Role.ANALYST, actor_id=f"{role}:ana"),
        username="ana",
        role=role,
        clock=FixedClock(TODAY),
    )


async def audit_subjects(session: AsyncSession, action: str) -> list[str | None]:
    query = select(col(AuditEvent.subject_hmac)).where(col(AuditEvent.action) == action)
    return list((await execute(session, query)).scalars())


async def events_of(session: AsyncSession, flag_id: int) -> list[FlagEvent]:
    query = select(FlagEvent).where(col(FlagEvent.flag_id) == flag_id)
    return list((await execute(session, query)).scalars())


class TestOnePersonView:
    async def test_a_cui_holder_is_shown_and_audited_like_a_dni_holder(
        self, session: AsyncSession
    ) -> None:
        # A child's CUI is the DNI number on their card: the analyst sees it as the DNI, the
        # child is a minor, and the reads land in the child's access log. The analysts' own
        # view builder dropped CUI numbers and the flag services audited DNI holders only.
        household = await create_household(session)
        child = await create_person(
            session,
            household=household,
            doc_type="CUI",
            doc_number="81234567",
            birth_on=date(2019, 3, 2),
        )
        flag = await create_flag(session, person_id=child.id, kind="age_out_of_range")
        who = analyst(session)

        case = await analyst_uc.flag_case(who, flag.id, purpose="revisar_alerta")
        assert case.person is not None
        assert case.person.dni == "81234567"
        assert case.person.is_minor is True
        assert await audit_subjects(session, "flag.view") == [dni_hmac(SECRET, "81234567")]

        page = await analyst_uc.queue(who, QueueQuery(filters=analyst_uc.queue_filter({})))
        line = next(line for line in page.lines if line.flag.id == flag.id)
        assert line.person is not None
        assert line.person.dni == "81234567"
        assert dni_hmac(SECRET, "81234567") in await audit_subjects(session, "flag.list")

    async def test_a_foreigners_ce_is_never_shown_as_a_dni(self, session: AsyncSession) -> None:
        person = await create_person(session, doc_type="CE", doc_number="001234567")
        flag = await create_flag(session, person_id=person.id)
        case = await analyst_uc.flag_case(analyst(session), flag.id, purpose="revisar_alerta")
        assert case.person is not None
        assert case.person.dni is None
        assert case.person.nombres == person.nombres


class TestPurpose:
    async def test_no_person_without_a_purpose_and_the_purpose_is_audited(
        self, session: AsyncSession
    ) -> None:
        person = await create_person(session, doc_number="45612378")
        flag = await create_flag(session, person_id=person.id)
        who = analyst(session)
        for missing in (None, "", "curiosidad"):
            with pytest.raises(PurposeRequired):
                await analyst_uc.flag_case(who, flag.id, purpose=missing)
        assert await audit_subjects(session, "flag.view") == []
        await analyst_uc.flag_case(who, flag.id, purpose="verificacion_campo")
        query = select(AuditEvent).where(col(AuditEvent.action) == "flag.view")
        rows = list((await execute(session, query)).scalars())
        assert [r.purpose for r in rows] == ["verificacion_campo"]


class TestActions:
    async def test_a_refused_action_undoes_only_itself(self, session: AsyncSession) -> None:
        flag = await create_flag(session)
        who = analyst(session)
        await analyst_uc.act(who, flag.id, ActionIn(FlagAction.COMMENT, text="Revisar RENIEC"))
        with pytest.raises(InvalidInput):
            await analyst_uc.act(who, flag.id, ActionIn(FlagAction.DISMISS, text="no"))
        # The session is still usable and the earlier comment is still there.
        case = await analyst_uc.flag_case(who, flag.id, purpose="revisar_alerta")
        assert case.flag.status == "open"
        assert [e.action for e in await events_of(session, flag.id)] == ["comment"]

    async def test_confirm_then_reopen(self, session: AsyncSession) -> None:
        flag = await create_flag(session)
        who = analyst(session)
        done = await analyst_uc.act(who, flag.id, ActionIn(FlagAction.CONFIRM, text="Visto"))
        assert (done.action, done.changed, done.flag_ids) == ("confirm", 1, [flag.id])
        again = await analyst_uc.act(who, flag.id, ActionIn(FlagAction.CONFIRM))
        assert again.changed == 0  # already confirmed
        await analyst_uc.act(who, flag.id, ActionIn(FlagAction.REOPEN))
        await session.refresh(flag)
        assert flag.status == "open"

    async def test_an_unknown_flag_is_not_found(self, session: AsyncSession) -> None:
        with pytest.raises(NotFound):
            await analyst_uc.flag_case(analyst(session), 987_654_321, purpose="revisar_alerta")

    async def test_bulk_needs_a_supervisor(self, session: AsyncSession) -> None:
        flag = await create_flag(session, program_code="JUNTOS")
        request = analyst_uc.BulkIn(
            action="dismiss",
            filters=analyst_uc.queue_filter({"programa": "JUNTOS"}),
            reason="Revisado en campo",
        )
        with pytest.raises(Forbidden):
            await analyst_uc.bulk(analyst(session), request)
        await session.refresh(flag)
        assert flag.status == "open"
        done = await analyst_uc.bulk(analyst(session, role="supervisor"), request)
        assert flag.id in done.flag_ids
        refreshed = (
            await execute(session, select(Flag).where(col(Flag.id) == flag.id))
        ).scalar_one()
        await session.refresh(refreshed)
        assert refreshed.status == "dismissed"


class TestFilters:
    def test_spanish_names_and_blanks(self) -> None:
        filters = analyst_uc.queue_filter(
            {"tipo": " deceased ", "departamento": "15", "estado": "  ", "orden": "kind"}
        )
        assert filters.kind == "deceased"
        assert filters.department == "15"
        assert filters.status is None

    def test_a_bulk_filter_with_an_unknown_name_is_refused(self) -> None:
        # A typo must not turn "these flags" into "every flag".
        with pytest.raises(InvalidInput, match="unknown filters: departament"):
            analyst_uc.queue_filter({"departament": "15"}, strict=True)
