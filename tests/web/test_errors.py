"""Browsers get the site's one Spanish error page; API clients keep the JSON shape (13.3)."""

from __future__ import annotations

from tests.api import public_support
from tests.api.public_support import make_client
from usecases.wording import espera

bound_state = public_support.bound_state
public_client = public_support.public_client

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def _is_site_page(response) -> bool:
    return response.headers["content-type"].startswith("text/html") and (
        '<html lang="es">' in response.text and 'href="/consulta"' in response.text
    )


class TestBrowsers:
    async def test_unknown_path_is_a_spanish_page(self, public_client):
        response = await public_client.get("/foo", headers=HTML)
        assert response.status_code == 404
        assert _is_site_page(response)
        assert "No encontramos esta página" in response.text

    async def test_bad_query_value_is_a_400_page(self, public_client):
        response = await public_client.get("/estadisticas?departamento=abc", headers=HTML)
        assert response.status_code == 400
        assert _is_site_page(response)
        assert "Datos no válidos" in response.text

    async def test_too_many_requests_says_how_long_to_wait(self, session, app_state):
        state = public_support.bind(app_state, session, public_per_client=1)
        async with await make_client(state) as client:
            await client.get("/padron/080101/PENSION65", headers=HTML)
            response = await client.get("/padron/080101/PENSION65", headers=HTML)
        assert response.status_code == 429
        assert _is_site_page(response)
        assert "Podrá intentarlo de nuevo en" in response.text
        assert int(response.headers["retry-after"]) >= 1

    async def test_favicon_is_served_locally(self, public_client):
        response = await public_client.get("/favicon.ico", headers=HTML)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("image/svg+xml")
        assert b"<svg" in response.content


class TestApiClients:
    async def test_unknown_path_without_html_is_json(self, public_client):
        response = await public_client.get("/foo", headers={"Accept": "application/json"})
        assert response.status_code == 404
        assert response.json()["error"] == "NotFound"

    async def test_api_paths_are_json_even_for_browsers(self, public_client):
        response = await public_client.get("/api/v1/nada", headers=HTML)
        assert response.status_code == 404
        assert response.json()["mensaje"]
        bad = await public_client.get("/api/v1/estadisticas?nivel=x", headers=HTML)
        assert bad.status_code == 422
        assert bad.json()["error"] == "ValidationError"


def test_waiting_time_in_words():
    assert espera(30) == "unos segundos"
    assert espera(60) == "1 minuto"
    assert espera(61) == "2 minutos"
    assert espera(3600 * 2) == "2 horas"
