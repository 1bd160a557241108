"""One parser of forwarded headers: uvicorn's is off in every way RNU is served (issue 11.2).

The app is served by a real uvicorn server on loopback with the options ``rnu serve`` uses, and
each request carries a different ``X-Forwarded-For``. With uvicorn's parser on (its default,
trusting 127.0.0.1) every request looked like a new client and no limit ever answered 429.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import yaml

from api.serving import UVICORN_FLAGS
from tests.api.live_server import served
from tests.api.public_support import bind

ROOT = Path(__file__).resolve().parents[2]


async def statuses(
    base: str, count: int, send: Callable[[httpx.AsyncClient, int, dict[str, str]], Any]
) -> list[int]:
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        out = []
        for n in range(count):
            response = await send(client, n, {"X-Forwarded-For": f"198.51.100.{n + 1}"})
            out.append(response.status_code)
        return out


async def test_lookup_limit_holds_whatever_forwarded_for_says(app_state, session):
    # The request window (the failure budget per client is set out of the way).
    state = bind(app_state, session, lookup_per_client=20, lookup_client_failure_tiers="1000/3600")
    async with served(state) as base:
        got = await statuses(
            base,
            22,
            lambda c, n, h: c.post(
                "/api/v1/consulta",
                json={"dni": f"{40000000 + n:08d}", "fecha_nacimiento": "1970-01-01"},
                headers=h,
            ),
        )
    assert got == [404] * 20 + [429, 429]


async def test_report_limit_holds_whatever_forwarded_for_says(app_state, session):
    state = bind(app_state, session, reports_per_client=3)
    async with served(state) as base:
        got = await statuses(
            base,
            5,
            lambda c, n, h: c.post(
                "/api/v1/reportes",
                json={"motivo": "otro", "ubigeo": "080101", "descripcion": f"caso {n}"},
                headers=h,
            ),
        )
    assert got == [201, 201, 201, 429, 429]


async def test_public_per_minute_limit_holds_whatever_forwarded_for_says(app_state, session):
    state = bind(app_state, session, public_per_client=4)
    async with served(state) as base:
        got = await statuses(
            base, 6, lambda c, n, h: c.get("/api/v1/reportes/RNU-0000-0000-0000", headers=h)
        )
    assert got == [404] * 4 + [429, 429]


async def test_a_trusted_proxy_still_names_the_client(app_state, session):
    # RNU's own parser keeps working: behind a trusted proxy, each forwarded address is a client.
    state = bind(app_state, session, lookup_per_client=2, trusted_proxies="127.0.0.1")
    async with served(state) as base:
        got = await statuses(
            base,
            4,
            lambda c, n, h: c.post(
                "/api/v1/consulta",
                json={"dni": f"{41000000 + n:08d}", "fecha_nacimiento": "1970-01-01"},
                headers=h,
            ),
        )
    assert got == [404] * 4


def test_rnu_serve_turns_uvicorn_proxy_headers_off(monkeypatch):
    from cli import main as cli

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: seen.update(kw))
    monkeypatch.setattr(cli, "database_url", lambda: "postgresql://unused")
    cli.serve(host=None, port=None)
    assert seen["proxy_headers"] is False
    assert seen["log_config"] is None


def _dockerfile_command() -> list[str]:
    text = (ROOT / "Dockerfile").read_text()
    cmd = text[text.index("CMD [") + 4 :]
    return list(yaml.safe_load(cmd[: cmd.index("]") + 1].replace("\\\n", " ")))


def _compose_api_command() -> list[str]:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    command = compose["services"]["api"]["command"]
    return shlex.split(command[-1]) if command[0] == "sh" else list(command)


@pytest.mark.parametrize("command", [_dockerfile_command, _compose_api_command])
def test_every_uvicorn_command_line_turns_proxy_headers_off(command):
    argv = command()
    assert "uvicorn" in argv
    for flag in UVICORN_FLAGS:
        assert flag in argv
