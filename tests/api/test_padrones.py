"""GET /api/v1/padrones: masked, paged, searchable; minors and Contigo users only counted."""

from __future__ import annotations

from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from privacy.masking import entry_id
from rnu.roll.models import roll_entry_key
from tests.api import public_support
from tests.factories import create_batch, create_enrollment, create_household, create_person

bound_state = public_support.bound_state
public_client = public_support.public_client
SECRET = b"test-secret-for-public"
URL = "/api/v1/padrones"


async def _roll(
    session: AsyncSession, program: str, people: list[dict], ubigeo="080101", period="2026-10"
):
    batch = await create_batch(session, source=program, period=period)
    created = []
    for fields in people:
        household = await create_household(session, ubigeo=ubigeo)
        person = await create_person(session, household=household, ubigeo=ubigeo, **fields)
        await create_enrollment(session, person=person, batch=batch, ubigeo=ubigeo)
        created.append(person)
    return created


ADULTS = [
    {
        "nombres": "JUAN CARLOS",
        "apellido_paterno": "QUISPE",
        "apellido_materno": "MAMANI",
        "birth_on": date(1950, 1, 2),
        "doc_number": "11111111",
    },
    {
        "nombres": "ROSA",
        "apellido_paterno": "HUAMÁN",
        "apellido_materno": "CCORI",
        "birth_on": date(1948, 7, 30),
        "doc_number": "22222222",
    },
]


class TestPadrones:
    async def test_masked_entries_and_nothing_else(self, session, public_client):
        people = await _roll(session, "PENSION65", ADULTS)
        response = await public_client.get(
            URL, params={"programa": "PENSION65", "ubigeo": "080101"}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["distrito"] == "Cusco"
        assert body["periodo"] == "2026-10"
        assert body["total_listados"] == 2
        # Cusco's 2 users are a reserved cell: "2 listed, 0 more" would publish it.
        assert body["no_listados"] is None
        names = [e["display_name"] for e in body["entradas"]]
        assert names == ["ROSA H*** C***", "JUAN C. Q*** M***"]
        assert set(body["entradas"][0]) == {
            "audience",
            "entry_id",
            "display_name",
            "program",
            "ubigeo",
            "period",
        }
        expected_id = entry_id(SECRET, roll_entry_key("PENSION65", people[1].id))
        assert body["entradas"][0]["entry_id"] == expected_id
        for secret_value in ("11111111", "22222222", "1950-01-02", "QUISPE", "CARLOS"):
            assert secret_value not in response.text
        assert response.headers["cache-control"] == "public, max-age=60"

    async def test_a_yearly_roll_is_listed(self, session, public_client):
        # Beca 18's periods are years ("2026"): slicing them as YYYY-MM answered a 500.
        students = [{**a, "birth_on": date(2005, 3, 1)} for a in ADULTS]
        await _roll(session, "BECA18", students, period="2026")
        response = await public_client.get(URL, params={"programa": "BECA18", "ubigeo": "080101"})
        assert response.status_code == 200, response.text
        assert response.json()["periodo"] == "2026"
        assert response.json()["total_listados"] == 2
        again = await public_client.get(
            URL, params={"programa": "BECA18", "ubigeo": "080101", "periodo": "2026"}
        )
        assert again.status_code == 200, again.text

    async def test_search_by_first_name_and_initials(self, session, public_client):
        await _roll(session, "PENSION65", ADULTS)
        params = {"programa": "PENSION65", "ubigeo": "080101", "q": "juan q"}
        body = (await public_client.get(URL, params=params)).json()
        assert [e["display_name"] for e in body["entradas"]] == ["JUAN C. Q*** M***"]
        params["q"] = "rosa q"
        body = (await public_client.get(URL, params=params)).json()
        assert body["entradas"] == []
        assert body["total_listados"] == 0

    async def test_minors_are_counted_not_listed(self, session, public_client):
        kids = [
            {"nombres": f"NIÑO{i}", "apellido_paterno": "SOTO", "birth_on": date(2015, 1, 1)}
            for i in range(12)
        ]
        await _roll(session, "SIS", ADULTS + kids)
        body = (await public_client.get(URL, params={"programa": "SIS", "ubigeo": "080101"})).json()
        assert body["total_listados"] == 2
        assert body["no_listados"] == 12
        assert "NIÑO" not in str(body)

    async def test_few_protected_entries_are_not_even_counted(self, session, public_client):
        await _roll(session, "CONTIGO", ADULTS)
        response = await public_client.get(URL, params={"programa": "CONTIGO", "ubigeo": "080101"})
        body = response.json()
        assert body["entradas"] == []
        assert body["no_listados"] is None  # 2 < k = 10
        assert "JUAN" not in response.text
        assert "ROSA" not in response.text

    async def test_unknown_parameters_are_refused(self, public_client):
        response = await public_client.get(
            URL, params={"programa": "SIS", "ubigeo": "080101", "dni": "11111111"}
        )
        assert response.status_code == 422

    async def test_unknown_roll_is_not_found(self, public_client):
        response = await public_client.get(URL, params={"programa": "SIS", "ubigeo": "080101"})
        assert response.status_code == 404
        assert response.json()["error"] == "NotFound"
