"""POST/GET /api/v1/reportes: tracking codes, folding, bursts, size limits, status history."""

from __future__ import annotations

from datetime import date

from rnu.report import service as report_service
from tests.api import public_support
from tests.api.public_support import bind, make_client
from tests.api.test_padrones import _roll

bound_state = public_support.bound_state
public_client = public_support.public_client
URL = "/api/v1/reportes"
PERSON = {"nombres": "ANA", "apellido_paterno": "LOPEZ", "birth_on": date(1950, 1, 1)}


async def _entry(session, client) -> str:
    await _roll(session, "PENSION65", [PERSON])
    body = (
        await client.get("/api/v1/padrones", params={"programa": "PENSION65", "ubigeo": "080101"})
    ).json()
    return body["entradas"][0]["entry_id"]


class TestTrackingCode:
    def test_codes_are_readable_and_self_checking(self):
        code = report_service.new_tracking_code()
        assert len(code) == 18
        assert code.startswith("RNU-")
        assert report_service.normalize_code(code.lower().replace("-", " ")) == code
        body = code.replace("-", "")[3:]
        typo = body[:5] + ("1" if body[5] != "1" else "2") + body[6:]
        assert report_service.normalize_code(typo) is None


class TestReportes:
    async def test_report_on_an_entry_and_follow_it(self, session, public_client):
        entrada = await _entry(session, public_client)
        response = await public_client.post(
            URL,
            json={
                "motivo": "fallecido",
                "entrada": entrada,
                "programa": "PENSION65",
                "ubigeo": "080101",
                "descripcion": "Falleció en marzo.",
            },
        )
        assert response.status_code == 201, response.text
        code = response.json()["codigo"]
        reports = await report_service.list_reports(session, ubigeo="080101")
        assert [r.tracking_code for r in reports] == [code]
        assert reports[0].person_id is not None
        assert reports[0].reason_code == "fallecido"
        follow = await public_client.get(f"{URL}/{code.lower()}")
        assert follow.status_code == 200
        body = follow.json()
        assert body["estado"] == "recibido"
        assert [p["estado"] for p in body["historial"]] == ["recibido"]
        assert "Falleció" not in follow.text  # the text is for analysts only
        assert reports[0].id is not None
        await report_service.set_status(session, report_id=reports[0].id, status="en_revision")
        body = (await public_client.get(f"{URL}/{code}")).json()
        assert [p["estado"] for p in body["historial"]] == ["recibido", "en_revision"]

    async def test_same_reporter_same_case_is_folded(self, session, public_client):
        entrada = await _entry(session, public_client)
        payload = {
            "motivo": "no_vive_en_el_distrito",
            "entrada": entrada,
            "programa": "PENSION65",
            "ubigeo": "080101",
        }
        first = await public_client.post(URL, json=payload)
        second = await public_client.post(URL, json=payload)
        assert first.status_code == 201
        assert second.status_code == 200
        assert second.json()["agrupado"] is True
        # Folded, but the earlier code is not handed back: the "same reporter" of a public
        # report is only an address (tests/api/test_report_codes.py, issue 11.20).
        assert second.json()["codigo"] is None
        (report,) = await report_service.list_reports(session, ubigeo="080101")
        assert report.duplicate_count == 1

    async def test_burst_from_many_reporters_is_marked(self, session, app_state):
        state = bind(app_state, session, trusted_proxies="127.0.0.0/8")
        async with await make_client(state) as client:
            entrada = await _entry(session, client)
            for n in range(report_service.BURST_REPORTERS):
                response = await client.post(
                    URL,
                    json={
                        "motivo": "no_es_pobre",
                        "entrada": entrada,
                        "programa": "PENSION65",
                        "ubigeo": "080101",
                    },
                    headers={"X-Forwarded-For": f"10.0.0.{n + 1}"},
                )
                assert response.status_code == 201
        reports = await report_service.list_reports(session, ubigeo="080101")
        assert len(reports) == report_service.BURST_REPORTERS
        assert all(r.is_burst for r in reports)

    async def test_description_without_entry(self, session, public_client):
        response = await public_client.post(
            URL,
            json={
                "motivo": "pensionista",
                "programa": "PENSION65",
                "ubigeo": "080101",
                "descripcion": "El señor de la esquina cobra una pensión de la ONP.",
            },
        )
        assert response.status_code == 201

    async def test_control_characters_are_refused_not_a_500(self, public_client):
        response = await public_client.post(
            URL,
            json={
                "motivo": "pensionista",
                "programa": "PENSION65",
                "ubigeo": "080101",
                "descripcion": "cobra\u0000 pension",
            },
        )
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "InvalidInput"

    async def test_limits_and_unknown_fields(self, public_client):
        too_long = await public_client.post(
            URL, json={"motivo": "otro", "ubigeo": "080101", "descripcion": "x" * 1001}
        )
        assert too_long.status_code == 422
        extra = await public_client.post(
            URL, json={"motivo": "otro", "ubigeo": "080101", "dni": "12345678"}
        )
        assert extra.status_code == 422
        bad_reason = await public_client.post(
            URL, json={"motivo": "me_cae_mal", "ubigeo": "080101"}
        )
        assert bad_reason.status_code == 422

    async def test_unknown_entry_and_code(self, session, public_client):
        await _entry(session, public_client)
        response = await public_client.post(
            URL,
            json={
                "motivo": "otro",
                "entrada": "A" * 16,
                "programa": "PENSION65",
                "ubigeo": "080101",
            },
        )
        assert response.status_code == 404
        missing = await public_client.get(f"{URL}/RNU-0000-0000-0000")
        assert missing.status_code == 404

    async def test_reports_per_client_are_limited(self, session, app_state):
        state = bind(app_state, session, reports_per_client=3)
        async with await make_client(state) as client:
            statuses = [
                (
                    await client.post(
                        URL,
                        json={"motivo": "otro", "ubigeo": "080101", "descripcion": f"caso {n}"},
                    )
                ).status_code
                for n in range(5)
            ]
        assert statuses == [201, 201, 201, 429, 429]
