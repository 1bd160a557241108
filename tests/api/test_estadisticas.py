"""GET /api/v1/estadisticas and /api/v1/datos-abiertos: suppressed counts, CSV/JSON, licence."""

from __future__ import annotations

import csv
import io

from tests.api import public_support
from tests.api.test_padrones import ADULTS, _roll

bound_state = public_support.bound_state
public_client = public_support.public_client


class TestEstadisticas:
    async def test_small_counts_are_reserved_and_not_recoverable(self, session, public_client):
        await _roll(session, "PENSION65", ADULTS, ubigeo="080101")  # 2 in Cusco
        await _roll(
            session,
            "PENSION65",
            [dict(a, doc_type=None, doc_number=None) for a in ADULTS * 4],
            ubigeo="150101",
        )  # 8 in Lima
        body = (await public_client.get("/api/v1/estadisticas")).json()
        usuarios = body["usuarios"]
        assert usuarios["k"] == 5
        rows = {f["codigo"]: f for f in usuarios["filas"]}
        assert len(rows) == 25
        assert rows["08"]["valores"]["PENSION65"] is None
        # Lima's 8 would give Cusco's 2 away from the column total: it is reserved too.
        assert rows["15"]["valores"]["PENSION65"] is None
        assert usuarios["totales"]["PENSION65"] == 10
        assert rows["01"]["valores"]["PENSION65"] == 0  # zeros are shown
        assert body["periodos"]["PENSION65"] == "2026-10"

    async def test_unknown_parameters_are_refused(self, public_client):
        response = await public_client.get("/api/v1/estadisticas", params={"dni": "1"})
        assert response.status_code == 422

    async def test_provinces_of_a_department(self, session, public_client):
        await _roll(session, "PENSION65", ADULTS)
        body = (
            await public_client.get(
                "/api/v1/estadisticas", params={"nivel": "provincia", "padre": "08"}
            )
        ).json()
        assert {f["codigo"][:2] for f in body["usuarios"]["filas"]} == {"08"}
        assert len(body["usuarios"]["filas"]) == 13


class TestDatosAbiertos:
    async def test_catalogue_dictionary_and_licence(self, public_client):
        body = (await public_client.get("/api/v1/datos-abiertos")).json()
        assert body["licencia"]["url"].startswith("https://opendatacommons.org/")
        names = [c["nombre"] for c in body["conjuntos"]]
        assert "usuarios-por-distrito" in names
        dictionary = (await public_client.get("/api/v1/datos-abiertos/diccionario")).json()
        assert [f["campo"] for f in dictionary["tablas"]["usuarios"]][:5] == [
            "ubigeo",
            "nombre",
            "programa",
            "periodo",
            "usuarios",
        ]

    async def test_csv_and_json_agree(self, session, public_client):
        await _roll(
            session, "PENSION65", [dict(a, doc_type=None, doc_number=None) for a in ADULTS * 3]
        )
        csv_response = await public_client.get(
            "/api/v1/datos-abiertos/usuarios-por-departamento.csv"
        )
        assert csv_response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(csv_response.text.lstrip("\ufeff"))))
        json_rows = (
            await public_client.get("/api/v1/datos-abiertos/usuarios-por-departamento.json")
        ).json()["filas"]
        assert len(rows) == len(json_rows)
        cusco = next(r for r in rows if r["ubigeo"] == "08" and r["programa"] == "PENSION65")
        assert cusco["usuarios"] == "6"
        assert (await public_client.get("/api/v1/datos-abiertos/nada.csv")).status_code == 404
