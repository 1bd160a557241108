"""The waiting room reads a request the way the endpoints do (issue 11.19).

Cohort mode admits today's last digits 0 and 1. DNI 07654325 is not served today; 07654321 is.
Each request below used to walk past the gate (answered 404 "unknown DNI" by the lookup, i.e.
served) because the gate parsed bodies its own way.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from api.state import AppState
from rnu.config import Settings
from rnu.peak import today_in_lima
from tests.api.public_support import make_client

WAITING = "07654325"
SERVED = "07654321"
FECHA = "1970-01-01"


@pytest.fixture
def gated(app_state: AppState) -> AppState:
    today = today_in_lima()
    settings = Settings(environment="test", peak_cohorts=f"{today.isoformat()}=0,1")
    return replace(app_state, settings=settings)


def _json(dni: str) -> bytes:
    return json.dumps({"dni": dni, "fecha_nacimiento": FECHA}).encode()


@pytest.mark.parametrize(
    "content_type",
    [None, "text/json", "application/vnd.rnu+json", "APPLICATION/JSON; charset=utf-8"],
)
async def test_any_json_the_endpoint_reads_is_gated(gated: AppState, content_type) -> None:
    headers = {"content-type": content_type} if content_type else {}
    async with await make_client(gated) as client:
        request = client.build_request("POST", "/api/v1/consulta", content=_json(WAITING))
        for name in ("content-type",):
            request.headers.pop(name, None)
        request.headers.update(headers)
        response = await client.send(request)
    assert response.status_code == 429, response.text
    assert response.json()["error"] == "WaitingRoom"


async def test_multipart_form_is_gated(gated: AppState) -> None:
    async with await make_client(gated) as client:
        response = await client.post(
            "/consulta",
            data={"dni": WAITING, "fecha_nacimiento": FECHA},
            files={"nada": ("x.txt", b"", "text/plain")},
            headers={"Accept": "text/html"},
        )
    assert response.status_code == 429, response.text
    assert "Hoy no es su turno" in response.text


async def test_multipart_form_without_files_is_gated(gated: AppState) -> None:
    boundary = "rnu-boundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="dni"\r\n\r\n{WAITING}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="fecha_nacimiento"\r\n\r\n'
        f"{FECHA}\r\n--{boundary}--\r\n"
    ).encode()
    async with await make_client(gated) as client:
        response = await client.post(
            "/consulta",
            content=body,
            headers={
                "content-type": f"multipart/form-data; boundary={boundary}",
                "Accept": "text/html",
            },
        )
    assert response.status_code == 429, response.text
    assert "Hoy no es su turno" in response.text


async def test_a_duplicated_form_field_is_refused(gated: AppState) -> None:
    async with await make_client(gated) as client:
        response = await client.post(
            "/consulta",
            content=f"dni={SERVED}&dni={WAITING}&fecha_nacimiento={FECHA}".encode(),
            headers={
                "content-type": "application/x-www-form-urlencoded",
                "Accept": "text/html",
            },
        )
    assert response.status_code == 400, response.text
    assert "un solo DNI" in response.text


async def test_a_duplicated_json_key_is_refused(gated: AppState) -> None:
    body = f'{{"dni": "{SERVED}", "dni": "{WAITING}", "fecha_nacimiento": "{FECHA}"}}'
    async with await make_client(gated) as client:
        response = await client.post(
            "/api/v1/consulta", content=body, headers={"content-type": "application/json"}
        )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "InvalidInput"


async def test_a_body_padded_past_the_gate_is_refused(gated: AppState) -> None:
    body = b" " * 20_000 + _json(WAITING)
    async with await make_client(gated) as client:
        response = await client.post(
            "/api/v1/consulta", content=body, headers={"content-type": "application/json"}
        )
    assert response.status_code == 413, response.text


async def test_another_content_type_is_refused(gated: AppState) -> None:
    async with await make_client(gated) as client:
        response = await client.post(
            "/api/v1/consulta", content=_json(WAITING), headers={"content-type": "text/plain"}
        )
    assert response.status_code == 415, response.text


async def test_a_check_character_or_spaces_do_not_change_the_cohort(gated: AppState) -> None:
    async with await make_client(gated) as client:
        response = await client.post(
            "/api/v1/consulta", json={"dni": f" {WAITING} ", "fecha_nacimiento": FECHA}
        )
    assert response.status_code == 429


async def test_todays_cohort_still_goes_through_as_a_form(gated: AppState) -> None:
    async with await make_client(gated) as client:
        response = await client.post(
            "/consulta",
            data={"dni": SERVED, "fecha_nacimiento": FECHA},
            headers={"Accept": "text/html"},
        )
    assert response.status_code == 404  # served (an unknown DNI), not sent to wait
