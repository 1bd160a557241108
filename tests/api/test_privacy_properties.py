"""Property: no public response (REST or page) leaks a seeded DNI, birth date, CSE, or the name
of a minor or a Contigo user, whatever people the registry holds."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api import public_support
from tests.factories import create_batch, create_enrollment, create_household, create_person

bound_state = public_support.bound_state
public_client = public_support.public_client
UBIGEO = "080101"

letters = st.text(alphabet="BCDFGHJKLMNPQRSTVWXZ", min_size=6, max_size=9)
person = st.fixed_dictionaries(
    {
        "dni": st.integers(10_000_000, 99_999_999).map(str),
        "given": letters,
        "surname": letters,
        "birth": st.dates(date(1930, 1, 1), date(2024, 12, 31)),
        "cse": st.sampled_from(["PE", "P", "NP"]),
        "program": st.sampled_from(["PENSION65", "JUNTOS", "CONTIGO", "SIS", "QALIWARMA"]),
    }
)


def _forbidden(p: dict) -> list[str]:
    b: date = p["birth"]
    values = [p["dni"], b.isoformat(), b.strftime("%d/%m/%Y"), p["surname"]]
    minor = b > date(2026 - 18, 10, 1)
    if minor or p["program"] in ("CONTIGO", "QALIWARMA"):
        values.append(p["given"])
    return values


PAGES = [
    "/api/v1/padrones?programa={program}&ubigeo=" + UBIGEO,
    "/padron/" + UBIGEO + "/{program}",
    "/padron/" + UBIGEO,
    "/api/v1/estadisticas",
    "/api/v1/estadisticas?nivel=distrito&padre=0801",
    "/api/v1/datos-abiertos/usuarios-por-distrito.csv",
    "/estadisticas?departamento=08",
]


@pytest.mark.slow
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(people=st.lists(person, min_size=1, max_size=6, unique_by=lambda p: p["dni"]))
async def test_public_responses_never_leak(session, public_client, people):
    savepoint = await session.begin_nested()
    try:
        batches = {}
        for p in people:
            household = await create_household(session, ubigeo=UBIGEO, cse=p["cse"])
            created = await create_person(
                session,
                household=household,
                ubigeo=UBIGEO,
                doc_number=p["dni"],
                nombres=p["given"],
                apellido_paterno=p["surname"],
                apellido_materno=None,
                birth_on=p["birth"],
            )
            if p["program"] not in batches:
                batches[p["program"]] = await create_batch(
                    session, source=p["program"], period="2026-10"
                )
            await create_enrollment(
                session, person=created, batch=batches[p["program"]], ubigeo=UBIGEO
            )
        forbidden = [v for p in people for v in _forbidden(p)]
        for program in {p["program"] for p in people}:
            for url in PAGES:
                response = await public_client.get(url.format(program=program))
                assert response.status_code < 500, url
                for value in forbidden:
                    assert value not in response.text, (url, value)
                if "padrones" in url:
                    for entry in response.json()["entradas"]:
                        assert not set(entry) & {"dni", "birth_date", "cse", "cse_valid_to"}
                # No CSE class is ever named on a public page.
                assert not re.search(r"pobre extremo|no pobre", response.text, re.I), url
    finally:
        await savepoint.rollback()
