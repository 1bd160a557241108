"""Issue 11.5 end to end: the differencing attack through the public pages and API fails.

A small real database (Cusco's province 0801): SIS in 080101 has 12 adults and 3 children (the
children are counted on the roll page, not listed); Qali Warma has 3 children in 080101 (k = 10)
and 12 in 080102. Before, the district page showed SIS = 15 beside 12 listed adults (15 − 12 = 3
children) and Qali Warma = 12 in 080102, which the statistics had reserved as the complement of
the 3: the province's total 0801 = 40 minus 12 and 25 gave the 3 back. Now every number comes
from one pattern per column, and an attacker who collects *all* of them — statistics at every
level, the district pages, the rolls — and solves the linear system recovers nothing.
"""

from __future__ import annotations

import re
from datetime import date

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.api import public_support
from tests.api.agency_support import agency_headers
from tests.api.test_padrones import _roll
from tests.privacy import attack

bound_state = public_support.bound_state
public_client = public_support.public_client

PROVINCE = "0801"
DISTRICTS = [f"0801{n:02d}" for n in range(1, 9)]  # Cusco's eight districts
ROWS = re.compile(
    r'<a href="/padron/(\d{6})/(\w+)">[^<]*</a></td>\s*<td>[^<]*</td>\s*'
    r'<td class="num">([^<]*)</td>'
)


def _people(n: int, *, born: date, tag: str) -> list[dict]:
    return [
        {
            "nombres": f"{tag}{i}",
            "apellido_paterno": "QUISPE",
            "apellido_materno": "MAMANI",
            "birth_on": born,
            "doc_type": None,
            "doc_number": None,
        }
        for i in range(n)
    ]


async def _country(session: AsyncSession) -> None:
    adult, child = date(1980, 5, 1), date(2016, 5, 1)
    await _roll(session, "SIS", _people(12, born=adult, tag="A") + _people(3, born=child, tag="N"))
    await _roll(session, "SIS", _people(20, born=adult, tag="B"), ubigeo="080102")
    await _roll(session, "SIS", _people(30, born=adult, tag="C"), ubigeo="080103")
    await _roll(session, "QALIWARMA", _people(3, born=child, tag="Q"))
    await _roll(session, "QALIWARMA", _people(12, born=child, tag="R"), ubigeo="080102")
    await _roll(session, "QALIWARMA", _people(25, born=child, tag="S"), ubigeo="080103")


def _count(text: str) -> int | None:
    """A page's cell: a number, or None for a reserved one ("reservado"; "menos de k" before)."""
    digits = re.sub(r"[\s,.\u00a0\u202f]", "", text)
    return int(digits) if digits.isdigit() else None


async def _district_page(client: httpx.AsyncClient, district: str) -> dict[str, int | None]:
    response = await client.get(f"/padron/{district}")
    assert response.status_code == 200
    return {p: _count(v) for d, p, v in ROWS.findall(response.text) if d == district}


async def _statistics(client: httpx.AsyncClient, **params: str) -> dict:
    response = await client.get("/api/v1/estadisticas", params=params)
    assert response.status_code == 200, response.text
    return response.json()["usuarios"]


class TestDifferencingAttack:
    async def test_page_count_minus_listed_adults_no_longer_gives_the_children(
        self, session, public_client
    ):
        await _country(session)
        page = await _district_page(public_client, "080101")
        roll = (
            await public_client.get(
                "/api/v1/padrones", params={"programa": "SIS", "ubigeo": "080101"}
            )
        ).json()
        assert roll["total_listados"] == 12  # the adults are public by name
        # Before: page = 15, so 15 - 12 = 3 children. Now the cell is reserved, and so is
        # no_listados (12 listed + it would be the cell).
        assert page["SIS"] is None
        assert roll["no_listados"] is None
        html = (await public_client.get("/padron/080101/SIS")).text
        assert "su número está reservado" in html

    async def test_column_totals_minus_published_cells_no_longer_give_the_small_cell(
        self, session, public_client
    ):
        await _country(session)
        provinces = await _statistics(public_client, nivel="provincia", padre="08")
        cusco = next(f for f in provinces["filas"] if f["codigo"] == PROVINCE)
        assert cusco["valores"]["QALIWARMA"] == 40  # published: 3 + 12 + 25
        pages = {d: await _district_page(public_client, d) for d in DISTRICTS}
        districts = await _statistics(public_client, nivel="distrito", padre=PROVINCE)
        # Before: the district page showed 080102's 12 (the statistics' complement), and
        # 40 - 12 - 25 = 3. Now it is reserved everywhere it appears.
        assert pages["080102"]["QALIWARMA"] is None
        assert pages["080103"]["QALIWARMA"] == 25
        row = {f["codigo"]: f["valores"]["QALIWARMA"] for f in districts["filas"]}
        assert row["080101"] is None
        assert row["080102"] is None
        known = [pages[d].get("QALIWARMA", 0) if row[d] is None else row[d] for d in DISTRICTS]
        assert sum(v is None for v in known) >= 2  # no single unknown left in 0801's line

    async def test_all_published_numbers_together_recover_no_reserved_one(
        self, session, public_client
    ):
        await _country(session)
        facts: list[attack.Fact] = []
        for nivel, padre in [
            ("departamento", None),
            ("provincia", None),
            ("provincia", "08"),
            ("distrito", "08"),
            ("distrito", PROVINCE),
        ]:
            params = {"nivel": nivel} | ({"padre": padre} if padre else {})
            table = await _statistics(public_client, **params)
            # Only this province's districts hold users: the attacker's unknowns.
            facts += attack.table_facts(table, padre, DISTRICTS, f"{nivel}/{padre}")
        for district in DISTRICTS:
            page = await _district_page(public_client, district)
            for programme in ("SIS", "QALIWARMA"):
                # Not on the page: nobody in the district is on the programme (a public 0).
                value = page.get(programme, 0) if programme in page else 0
                facts.append(
                    attack.Fact(
                        f"página {district}/{programme}",
                        attack.cell(district, programme, DISTRICTS),
                        value,
                    )
                )
                response = await public_client.get(
                    "/api/v1/padrones", params={"programa": programme, "ubigeo": district}
                )
                body = (
                    response.json()
                    if response.status_code == 200
                    else {"total_listados": 0, "no_listados": 0}
                )
                facts += attack.roll_facts(district, programme, body)
        truth = {
            ("080101", "SIS", "listed"): 12,
            ("080101", "SIS", "unlisted"): 3,
            ("080102", "SIS", "listed"): 20,
            ("080103", "SIS", "listed"): 30,
            ("080101", "QALIWARMA", "unlisted"): 3,
            ("080102", "QALIWARMA", "unlisted"): 12,
            ("080103", "QALIWARMA", "unlisted"): 25,
        }
        relevant = [f for f in facts if f.terms]
        for fact in relevant:
            if fact.value is not None:
                assert fact.value == attack.truth_of(fact, truth), fact.where
        assert any(f.value is None for f in relevant)  # there is something to attack
        leaks = attack.recovered(relevant)
        assert leaks == [], [(f.where, attack.truth_of(f, truth)) for f in leaks]

    async def test_graphql_coverage_reserves_the_same_cells(self, session, public_client):
        await _country(session)
        headers = await agency_headers(session, "coverage:read")
        query = (
            '{ coverage(program: "QALIWARMA", ubigeo: "0801") '
            "{ k total areas(first: 100) { edges { node { ubigeo count } } } } }"
        )
        response = await public_client.post("/graphql", json={"query": query}, headers=headers)
        body = response.json()
        assert "errors" not in body, body
        coverage = body["data"]["coverage"]
        cells = {e["node"]["ubigeo"]: e["node"]["count"] for e in coverage["areas"]["edges"]}
        # Before, GraphQL suppressed its own one-province table: the same 3 and 12 reserved
        # there, but nothing tied it to the pages; now it reads the public pattern.
        assert (coverage["k"], coverage["total"]) == (10, 40)
        assert (cells["080101"], cells["080102"], cells["080103"]) == (None, None, 25)
