"""GraphiQL and the SDL for integrators, served by RNU itself (no CDN: closed networks work).

The assets are vendored under ``static/`` with their licences (``static/README.md``). All of
it is a developer surface: off in production unless ``RNU_API_DOCS`` turns it on, like /docs.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse

from api.deps import StateDep

STATIC = Path(__file__).parent / "static"
ASSETS_PATH = "/graphql/assets"
SDL_PATH = "/graphql/schema.graphql"
_ASSETS = {
    "graphiql.min.js": "text/javascript",
    "graphiql.min.css": "text/css",
    "react.production.min.js": "text/javascript",
    "react-dom.production.min.js": "text/javascript",
    "explorer.js": "text/javascript",
}

_PAGE = f"""<!doctype html>
<html lang="es">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>RNU — explorador GraphQL para entidades</title>
<link rel="stylesheet" href="{ASSETS_PATH}/graphiql.min.css">
<style>body {{ margin: 0; }} #graphiql {{ height: 100vh; }}</style>
</head>
<body>
<div id="graphiql">Cargando el explorador…</div>
<script src="{ASSETS_PATH}/react.production.min.js"></script>
<script src="{ASSETS_PATH}/react-dom.production.min.js"></script>
<script src="{ASSETS_PATH}/graphiql.min.js"></script>
<script src="{ASSETS_PATH}/explorer.js"></script>
</body>
</html>
"""


def page() -> HTMLResponse:
    return HTMLResponse(_PAGE, headers={"Cache-Control": "no-store"})


@cache
def sdl() -> str:
    from api.graphql.schema import schema

    return schema.as_str() + "\n"


def _require_docs(state: StateDep) -> None:
    if not state.settings.docs_enabled():
        raise HTTPException(status_code=404, detail="not found")


router = APIRouter(include_in_schema=False)


@router.get(SDL_PATH)
async def schema_sdl(state: StateDep) -> PlainTextResponse:
    """The schema in SDL, the file client generators read."""
    _require_docs(state)
    return PlainTextResponse(sdl(), media_type="text/plain; charset=utf-8")


@router.get(ASSETS_PATH + "/{name}")
async def asset(name: str, state: StateDep) -> FileResponse:
    _require_docs(state)
    media = _ASSETS.get(name)
    if media is None:
        raise HTTPException(status_code=404, detail="not found")
    return FileResponse(
        STATIC / name, media_type=media, headers={"Cache-Control": "public, max-age=86400"}
    )
