"""A request's writes are committed before its response starts, never after."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event
from sqlmodel.ext.asyncio.session import AsyncSession

from api.deps import ReadSessionDep, SessionDep
from api.state import AppState


async def call(app: FastAPI, path: str) -> list[str]:
    """Run one GET through the ASGI app; return what happened, in order."""
    seen: list[str] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            seen.append("response")

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": [], "client": ("127.0.0.1", 1), "server": ("test", 80),
    }  # fmt: skip
    app.state.seen = seen
    await app(scope, receive, send)
    return seen


def app_for(state: AppState) -> FastAPI:
    app = FastAPI()
    app.state.rnu = state

    def track(session: AsyncSession, seen: list[str]) -> None:
        event.listen(session.sync_session, "after_commit", lambda _: seen.append("commit"))

    @app.get("/write")
    async def write(session: SessionDep) -> dict[str, bool]:
        track(session, app.state.seen)
        return {"ok": True}

    @app.get("/read")
    async def read(session: ReadSessionDep) -> dict[str, bool]:
        track(session, app.state.seen)
        return {"ok": True}

    return app


class TestCommitBeforeResponse:
    async def test_a_write_session_commits_before_the_response(self, app_state: AppState) -> None:
        assert await call(app_for(app_state), "/write") == ["commit", "response"]

    async def test_a_read_session_ends_before_the_response(self, app_state: AppState) -> None:
        # without a replica the read session is the primary's unit of work, committed too
        assert await call(app_for(app_state), "/read") == ["commit", "response"]
