"""/estadisticas on a phone: tile maps of the 25 departments and district subcobertura, each
figure the one the API publishes (reserved where the API reserves it)."""

from __future__ import annotations

import re
from datetime import date

from tests.api import public_support
from tests.api.test_padrones import ADULTS, _roll
from tests.factories import create_flag
from usecases.public import TablaAlertas, category_totals

bound_state = public_support.bound_state
public_client = public_support.public_client

TILE = re.compile(
    r'<li class="tesela c(\d) r(\d) (n[0-4r])" data-codigo="(\d{2})"[^>]*>.*?'
    r'<span class="v">([^<]*)</span></li>'
)


def _people(n: int) -> list[dict]:
    """``n`` adults without documents (so the roll factory needs no unique DNIs)."""
    return [
        dict(ADULTS[i % 2], doc_type=None, doc_number=None, birth_on=date(1950, 1, 1))
        for i in range(n)
    ]


def _shown(value: int | None) -> str:
    return "reservado" if value is None else f"{value:,}".replace(",", " ")


def _tiles(html: str, mid: str) -> dict[str, tuple[str, str, str]]:
    """{department: (cell, shade, text)} of the map ``mid`` (m-cob, m-fil, m-sub)."""
    start = html.index(f'id="{mid}-t"')
    end = html.index("</ol>", start)
    tiles = {}
    for col, row, shade, code, text in TILE.findall(html[start:end]):
        assert code not in tiles, f"{mid}: {code} twice"
        tiles[code] = (f"{col},{row}", shade, text)
    return tiles


def _table(html: str, mid: str) -> dict[str, str]:
    """{department name: text} of the map's table alternative."""
    start = html.index(f'id="{mid}-tabla"')
    end = html.index("</table>", start)
    rows = re.findall(
        r'<tr><th scope="row">([^<]+)</th><td class="num">([^<]*)</td></tr>', html[start:end]
    )
    return dict(rows)


async def _seed_flags(session, kind: str, per_district: dict[str, int]) -> None:
    for ubigeo, n in per_district.items():
        for _ in range(n):
            await create_flag(session, kind=kind, ubigeo=ubigeo)


class TestTileMaps:
    async def test_25_departments_with_the_apis_figures_or_reservado(self, session, public_client):
        await _roll(session, "PENSION65", _people(6), ubigeo="080101")  # Cusco
        await _roll(session, "PENSION65", _people(9), ubigeo="150101")  # Lima
        await _roll(session, "PENSION65", _people(2), ubigeo="040101")  # Arequipa: below k
        await _seed_flags(session, "deceased", {"150101": 7, "200101": 6, "080101": 3})
        await _seed_flags(session, "subcobertura_juntos", {"020101": 8, "210101": 1})
        api = (await public_client.get("/api/v1/estadisticas")).json()
        html = (await public_client.get("/estadisticas")).text
        names = {f["codigo"]: f["nombre"] for f in api["usuarios"]["filas"]}
        alertas = TablaAlertas.model_validate(api["alertas"])
        expected = {
            "m-cob": {f["codigo"]: f["total"] for f in api["usuarios"]["filas"]},
            "m-fil": {f.codigo: f.total for f in category_totals(alertas, "filtracion")},
            "m-sub": {f.codigo: f.total for f in category_totals(alertas, "subcobertura")},
        }
        for mid, values in expected.items():
            tiles = _tiles(html, mid)
            assert len(tiles) == 25, mid
            assert len({cell for cell, _, _ in tiles.values()}) == 25, f"{mid}: tiles overlap"
            assert {code: text for code, (_, _, text) in tiles.items()} == {
                code: _shown(v) for code, v in values.items()
            }, mid
            for code, (_, shade, _) in tiles.items():
                assert (shade == "nr") == (values[code] is None), (mid, code)
                assert (shade == "n0") == (values[code] == 0), (mid, code)
            # The table alternative says the same, department by department.
            assert _table(html, mid) == {names[c]: _shown(v) for c, v in values.items()}, mid
        # Arequipa's 2 users and Puno's 1 case are below k: reserved on the map.
        assert _tiles(html, "m-cob")["04"][2] == "reservado"
        assert _tiles(html, "m-sub")["21"][2] == "reservado"
        assert "Leyenda (usuarios)" in html
        assert html.count('class="muestra nr"') == 3  # each legend explains "reservado"

    async def test_shades_follow_the_values(self, session, public_client):
        for ubigeo, n in {"080101": 6, "150101": 40, "200101": 12, "130101": 25}.items():
            await _roll(session, "PENSION65", _people(n), ubigeo=ubigeo)
        tiles = _tiles((await public_client.get("/estadisticas")).text, "m-cob")
        shades = {code: tiles[code][1] for code in ("08", "20", "13", "15")}
        assert shades == {"08": "n1", "20": "n2", "13": "n3", "15": "n4"}
        assert tiles["01"][1] == "n0"  # Amazonas: none, a published zero


class TestCharts:
    async def test_labels_and_figures_are_html_text(self, session, public_client):
        await _roll(session, "PENSION65", _people(6), ubigeo="080101")
        html = (await public_client.get("/estadisticas")).text
        chart = html[html.index('id="g-cob-t"') : html.index("</ol>", html.index('id="g-cob-t"'))]
        # No SVG text (a scaled viewBox shrank it to ~7 px at 412 px) and no viewBox at all.
        assert "<text" not in html
        assert "viewBox" not in chart
        assert '<span class="eti">Madre de Dios</span>' in chart  # full names, not cut at 18
        assert '<span class="val">6</span>' in chart
        assert 'style="' not in html  # the CSP allows no inline styles


class TestDistrictSubcobertura:
    async def test_districts_as_the_api_publishes_them(self, session, public_client):
        await _seed_flags(
            session, "subcobertura_juntos", {"080101": 9, "080102": 2, "080201": 7, "080301": 6}
        )
        await _seed_flags(session, "deceased", {"080101": 5})
        api = (
            await public_client.get(
                "/api/v1/estadisticas", params={"nivel": "distrito", "padre": "08"}
            )
        ).json()
        published = {
            f.codigo: f.total
            for f in category_totals(TablaAlertas.model_validate(api["alertas"]), "subcobertura")
        }
        html = (await public_client.get("/estadisticas", params={"departamento": "08"})).text
        assert "Subcobertura por distrito de Cusco" in html
        start = html.index('id="subcobertura-distritos"')
        table = html[start : html.index("</table>", start)]
        rows = re.findall(
            r'<tr data-ubigeo="(\d{6})"><th scope="row">[^<]+</th><td>[^<]+</td>'
            r'<td class="num">([^<]*)</td></tr>',
            table,
        )
        assert dict(rows) == {c: _shown(v) for c, v in published.items() if v != 0}
        # 080102's 2 cases are below k: reserved on the page as in the API.
        assert published["080102"] is None
        assert dict(rows)["080102"] == "reservado"
        assert any(v is not None and v > 0 for v in published.values())
        assert "<td>Cusco</td>" in table  # the province
        assert "<td>Acomayo</td>" in table

    async def test_national_page_points_to_the_departments(self, session, public_client):
        await _seed_flags(session, "subcobertura_juntos", {"080101": 9})
        html = (await public_client.get("/estadisticas")).text
        assert 'id="subcobertura-distritos"' not in html
        assert "Elija un departamento arriba" in html
