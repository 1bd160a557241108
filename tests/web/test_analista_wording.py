"""The analysts' pages in Spanish words: no internal code reaches the rendered text.

Issue 13 item 8: the flag page showed ``facts {'in_pgh': False}``, ``rule_version 2002-01``,
``linked (exact_document)``, "Estado: open" and English field levels. These tests render the
pages with evidence exactly as the checks store it and look at the text a person sees.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.review.models import MatchReviewItem
from tests.factories import (
    STAFF_PASSWORD,
    create_batch,
    create_enrollment,
    create_flag,
    create_household,
    create_person,
    create_roll_row,
    create_staff_user,
)
from tests.rnu.staff.support import staff_client
from tests.web.test_analista_pages import form_login

__all__ = ["staff_client"]

# Codes of the checks, the matcher, the statuses and the roles that must never be read.
INTERNAL_CODES = (
    "in_pgh",
    "not_in_pgh",
    "facts",
    "rule_version",
    "2002-01",
    "2026-10",
    "exact_document",
    "fuzzy",
    "linked",
    "unmatched",
    "open",
    "dismissed",
    "high",
    "medium",
    "one_edit",
    "phonetic",
    "different",
    "missing",
    "jw_high",
    "birth_date",
    "analyst",
    "supervisor:",
    "True",
    "False",
    "JUNTOS",
)


class _Text(HTMLParser):
    """The text a reader sees: element text, not tags, attributes or hidden values."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "title"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "title") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def codes_in(text: str) -> list[str]:
    return [c for c in INTERNAL_CODES if re.search(rf"(?<![\w-]){re.escape(c)}(?![\w-])", text)]


async def _not_in_pgh_case(session: AsyncSession) -> tuple[int, int]:
    """A Juntos flag as ``rnu check`` writes it, on a person with a fuzzy-linked history."""
    household = await create_household(session)
    person = await create_person(
        session, household=household, nombres="ROSAURA", apellido_paterno="MAMANI"
    )
    batch = await create_batch(session, source="JUNTOS", period="2026-10")
    row = await create_roll_row(
        session,
        batch=batch,
        person=person,
        method="fuzzy",
        weight=14.2,
        agreements={"paterno": "one_edit", "nombres": "phonetic", "birth_date": "different"},
    )
    await create_enrollment(
        session, person=person, batch=batch, roll_row=row, match_method="fuzzy", match_weight=14.2
    )
    flag = await create_flag(
        session,
        kind="not_in_pgh",
        severity="medium",
        person_id=person.id,
        program_code="JUNTOS",
        period="2026-10",
        evidence={
            "rule": "in_pgh",
            "code": "not_in_pgh",
            "rule_version": "2002-01",
            "facts": {"in_pgh": False},
        },
    )
    assert person.id is not None
    return flag.id, person.id


class TestFlagPageInWords:
    async def test_evidence_history_and_rows_have_no_codes(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        flag_id, _ = await _not_in_pgh_case(session)
        user = await create_staff_user(session, username="rosa.quispe")
        await form_login(staff_client, "analista", user.username, STAFF_PASSWORD)
        page = await staff_client.get(f"/analista/alertas/{flag_id}?finalidad=revisar_alerta")
        assert page.status_code == 200, page.text
        text = visible_text(page.text)
        assert codes_in(text) == [], text
        assert "Regla vigente desde enero de 2002" in text
        assert "Figurar en el Padrón General de Hogares" in text
        assert "Juntos se verifica con el Padrón General de Hogares (PGH)" in text
        assert "Figura en el PGH No" in text  # the fact and its value, in words
        assert "Estado Abierta" in text
        assert "octubre de 2026" in text
        assert "Apellido paterno: una letra distinta" in text
        assert "Nombres: suena igual" in text
        assert "Fecha de nacimiento: distinto" in text
        assert "vinculada por nombres y fecha de nacimiento" in text
        assert "rosa.quispe (analista)" in text

    async def test_history_names_the_actor_and_status_after_dismissal(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        flag_id, _ = await _not_in_pgh_case(session)
        user = await create_staff_user(session, username="jorge.huaman")
        await form_login(staff_client, "analista", user.username, STAFF_PASSWORD)
        url = f"/analista/alertas/{flag_id}?finalidad=revisar_alerta"
        page = await staff_client.get(url)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        done = await staff_client.post(
            f"/analista/alertas/{flag_id}/descartar",
            data={"motivo": "Figura en el PGH con otro DNI.", "csrf_token": token.group(1)},
        )
        assert done.status_code == 303
        text = visible_text((await staff_client.get(url)).text)
        assert codes_in(text) == [], text
        assert "Estado Descartada" in text
        assert "jorge.huaman (analista) · Descartó" in text


class TestQueueAndReviewInWords:
    async def test_queue_has_no_codes(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        await _not_in_pgh_case(session)
        user = await create_staff_user(session, username="lucia.torres")
        await form_login(staff_client, "analista", user.username, STAFF_PASSWORD)
        page = await staff_client.get("/analista?programa=JUNTOS")
        assert page.status_code == 200
        text = visible_text(page.text)
        assert codes_in(text) == [], text
        assert "No figura en el Padrón General de Hogares" in text
        assert "octubre de 2026" in text

    async def test_review_item_status_and_levels_in_words(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        household = await create_household(session)
        candidate = await create_person(session, household=household, nombres="JUAN")
        batch = await create_batch(session, source="JUNTOS", period="2026-10")
        row = await create_roll_row(
            session, batch=batch, outcome="review", method="fuzzy", nombres="JUAN", sex="M"
        )
        assert row.id is not None
        assert batch.id is not None
        item = MatchReviewItem(
            roll_row_id=row.id,
            batch_id=batch.id,
            candidates=[
                {
                    "person_key": candidate.pgh_key,
                    "weight": 9.5,
                    "agreements": {"nombres": "exact", "paterno": "one_edit"},
                }
            ],
        )
        session.add(item)
        await session.flush()
        user = await create_staff_user(session, username="marco.soto")
        await form_login(staff_client, "analista", user.username, STAFF_PASSWORD)
        page = await staff_client.get(
            f"/analista/revision/{item.id}?finalidad=revisar_coincidencia"
        )
        assert page.status_code == 200, page.text
        text = visible_text(page.text)
        assert codes_in(text) == [], text
        assert "Estado: Por decidir" in text
        assert "(peso 9,5)" in text
        assert "Masculino" in text
