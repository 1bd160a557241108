"""The interactive API docs (/docs, Swagger UI) with assets RNU serves itself.

FastAPI's own /docs page loads Swagger UI from a CDN, so on a closed network it was blank.
The assets come from ``fastapi-offline`` (a PyPI package that ships Swagger UI's bundle);
RNU uses only its files and builds the page with FastAPI's own helper. The docs, the OpenAPI
document and GraphiQL are developer surfaces: off in production unless ``RNU_API_DOCS`` is on
(``Settings.docs_enabled``).
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_PATH = "/docs"
OPENAPI_PATH = "/api/v1/openapi.json"
ASSETS_PATH = "/docs/assets"
ASSETS = Path(fastapi_offline.__file__).parent / "static"


def install(app: FastAPI) -> None:
    """Serve /docs from local assets (call only where the docs are on)."""
    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS), name="docs-assets")
    redirect = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"

    @app.get(DOCS_PATH, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=OPENAPI_PATH,
            title=f"{app.title} — API",
            oauth2_redirect_url=redirect,
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon.png",
        )

    @app.get(redirect, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
