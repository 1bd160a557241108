"""Cargas reads a body only after the key, and never past the limit (issue 11, item 8).

Before, FastAPI parsed the multipart form before it ran the route's authentication: a 200 MiB
anonymous body was spooled to disk, then refused with 401. These tests drive the ASGI app
directly and count how much of the body it pulls.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from api.rest import cargas
from api.state import AppState
from tests.api.agency_support import agency_headers

CHUNK = 64 * 1024
CHUNKS = 80  # a 5 MiB body
BOUNDARY = "rnu-test-boundary"


def multipart_head(program: str = "JUNTOS", period: str = "2026-10", **extra: str) -> bytes:
    fields = {"programa": program, "periodo": period, **extra}
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in fields.items()
    ]
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="archivo"; '
        'filename="juntos_202610.txt"\r\nContent-Type: text/plain\r\n\r\n'
    )
    return "".join(parts).encode()


class Sender:
    """An ASGI `receive` that hands out a body in chunks and counts what the app took."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.taken = 0

    async def __call__(self) -> dict[str, Any]:
        if self.taken < len(self.chunks):
            body = self.chunks[self.taken]
            self.taken += 1
            more = self.taken < len(self.chunks)
            return {"type": "http.request", "body": body, "more_body": more}
        return {"type": "http.disconnect"}


async def post(state: AppState, sender: Sender, headers: dict[str, str]) -> int:
    from web.app import create_app

    app = create_app(state=state)
    size = sum(len(c) for c in sender.chunks)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/cargas",
        "raw_path": b"/api/v1/cargas",
        "query_string": b"",
        "root_path": "",
        "client": ("127.0.0.1", 50000),
        "server": ("test", 80),
        "headers": [
            (b"host", b"test"),
            (b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode()),
            (b"content-length", str(size).encode()),
            *((k.lower().encode(), v.encode()) for k, v in headers.items()),
        ],
    }
    status: list[int] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(scope, sender, send)
    return status[0]


def big_body() -> list[bytes]:
    return [multipart_head()] + [b"x" * CHUNK for _ in range(CHUNKS)]


async def test_an_anonymous_body_is_refused_before_it_is_read(agency_state: AppState) -> None:
    sender = Sender(big_body())
    assert await post(agency_state, sender, {}) == 401
    assert sender.taken == 0  # not one byte of the body was read, so none was stored


async def test_a_declared_length_over_the_limit_is_refused_unread(
    agency_state: AppState, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cargas, "MAX_UPLOAD_BYTES", 1024 * 1024)
    headers = await agency_headers(session, "enrollment:write:JUNTOS", purpose="carga_padron")
    sender = Sender(big_body())
    assert await post(agency_state, sender, headers) == 400
    assert sender.taken == 0


async def test_a_body_over_the_limit_stops_being_read(
    agency_state: AppState, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No Content-Length to trust (chunked): reading stops once the limit is passed."""
    monkeypatch.setattr(cargas, "MAX_UPLOAD_BYTES", 1024 * 1024)
    monkeypatch.setattr(cargas, "check_declared_length", lambda *_: None)
    headers = await agency_headers(session, "enrollment:write:JUNTOS", purpose="carga_padron")
    sender = Sender(big_body())
    assert await post(agency_state, sender, headers) == 400
    assert sender.taken < 1 + (1024 * 1024) // CHUNK + 3


async def test_the_sender_confirms_a_replacement(
    agency_state: AppState, session: AsyncSession
) -> None:
    headers = await agency_headers(session, "enrollment:write:JUNTOS", purpose="carga_padron")
    roll = b"PERIODO|UBIGEO|COD_HOGAR|DNI_TITULAR|APELLIDOS_NOMBRES_TITULAR|FEC_NAC|MONTO|ESTADO\n"
    body = multipart_head(confirmar_reemplazo="true") + roll + f"\r\n--{BOUNDARY}--\r\n".encode()
    assert await post(agency_state, Sender([body]), headers) == 202
    args = await session.scalar(
        text("SELECT args FROM procrastinate_jobs WHERE task_name = 'rnu:load_upload' "
             "ORDER BY id DESC LIMIT 1")
    )  # fmt: skip
    assert args["confirm_drop"] is True
