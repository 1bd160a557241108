"""The Spanish pages work with plain forms (no JavaScript), stay light and speak Spanish."""

from __future__ import annotations

import re
from datetime import date

import pytest

from tests.api import public_support
from tests.api.test_consulta import _person
from tests.api.test_padrones import ADULTS, _roll

bound_state = public_support.bound_state
public_client = public_support.public_client

PAGES = [
    "/",
    "/consulta",
    "/padron",
    "/padron/08",
    "/padron/0801",
    "/padron/080101",
    "/padron/080101/PENSION65",
    "/reportar",
    "/seguimiento",
    "/estadisticas",
    "/datos-abiertos",
]


class TestEveryPage:
    @pytest.mark.parametrize("path", PAGES)
    async def test_spanish_light_and_labelled(self, session, public_client, path):
        await _roll(session, "PENSION65", ADULTS)
        response = await public_client.get(path)
        assert response.status_code == 200, response.text[:500]
        html = response.text
        assert '<html lang="es">' in html
        assert len(response.content) <= 100_000
        for field in re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', html):
            assert f'for="{field}"' in html, f"{path}: #{field} has no label"


class TestConsultaPage:
    async def test_success_without_javascript(self, session, public_client):
        await _person(session)
        response = await public_client.post(
            "/consulta", data={"dni": "07654321", "fecha_nacimiento": "09/03/1950"}
        )
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        assert "Pensión 65" in response.text
        assert "pobre extremo" in response.text
        assert "vigente hasta el 1 de enero de 2028" in response.text

    async def test_errors_next_to_the_field(self, public_client):
        response = await public_client.post(
            "/consulta", data={"dni": "123", "fecha_nacimiento": "ayer"}
        )
        assert response.status_code == 400
        assert 'id="dni-error" role="alert"' in response.text
        assert 'aria-describedby="dni-ayuda dni-error"' in response.text
        assert 'id="fecha-error" role="alert"' in response.text
        assert 'value="123"' not in response.text  # the DNI is never echoed back

    async def test_no_match_is_one_plain_message(self, session, public_client):
        await _person(session)
        wrong = await public_client.post(
            "/consulta", data={"dni": "07654321", "fecha_nacimiento": "10/03/1950"}
        )
        unknown = await public_client.post(
            "/consulta", data={"dni": "07654399", "fecha_nacimiento": "09/03/1950"}
        )
        assert wrong.status_code == unknown.status_code == 404
        assert wrong.text == unknown.text
        assert "No encontramos a una persona con ese DNI" in wrong.text


class TestReportFlow:
    async def test_roll_report_and_follow(self, session, public_client):
        await _roll(session, "PENSION65", ADULTS)
        roll = await public_client.get("/padron/080101/PENSION65", params={"q": "rosa"})
        assert "ROSA H*** C***" in roll.text
        assert "JUAN" not in roll.text
        found = re.search(r'href="(/reportar\?entrada=[^"]+)"', roll.text)
        assert found is not None
        link = found.group(1)
        form = await public_client.get(link.replace("&amp;", "&"))
        assert "ROSA H*** C***" in form.text
        fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form.text))
        fields |= {"motivo": "fallecido", "descripcion": "Falleció el año pasado."}
        received = await public_client.post("/reportar", data=fields)
        assert received.status_code == 200
        tracking = re.search(r"RNU-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", received.text)
        assert tracking is not None
        code = tracking.group(0)
        status = await public_client.get("/seguimiento", params={"codigo": code.lower()})
        assert "Estado: Recibido" in status.text
        assert "La persona falleció" in status.text

    async def test_report_form_errors(self, public_client):
        response = await public_client.post("/reportar", data={"motivo": "", "ubigeo": "080101"})
        assert response.status_code == 400
        assert 'id="motivo-error" role="alert"' in response.text
        nowhere = await public_client.post("/reportar", data={"motivo": "otro", "ubigeo": ""})
        assert nowhere.status_code == 400
        assert 'id="ubigeo-error" role="alert"' in nowhere.text

    async def test_unknown_code(self, public_client):
        response = await public_client.get("/seguimiento", params={"codigo": "RNU-XXXX"})
        assert response.status_code == 404
        assert 'id="codigo-error" role="alert"' in response.text


class TestEstadisticasPage:
    async def test_charts_with_tables(self, session, public_client):
        await _roll(
            session,
            "PENSION65",
            [
                dict(a, doc_type=None, doc_number=None, birth_on=date(1950, 1, 1))
                for a in ADULTS * 3
            ],
        )
        html = (await public_client.get("/estadisticas")).text
        assert html.count('<figure class="grafico"') == 1  # coverage; no alerts yet
        assert html.count('<figure class="mapa"') == 1
        assert "Cusco" in html
        # Cusco's six PENSION65 users are at least k = 5: published as the number itself.
        cusco = re.search(r'>Cusco</a></th>\s*<td class="num">([^<]*)</td>', html)
        assert cusco is not None
        assert cusco.group(1) == "6"
