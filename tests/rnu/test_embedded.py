"""Embedded services start, are reused, and give way to configured URLs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import pytest

from rnu.config import Settings
from rnu.embedded import (
    plain_url,
    redact,
    resolve_endpoints,
    start_embedded_postgres,
    start_embedded_redis,
    stop_embedded_postgres,
    stop_embedded_redis,
)
from rnu.errors import ServiceUnavailable

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
class TestEmbeddedPostgres:
    async def test_starts_then_is_reused(self, tmp_path: Path) -> None:
        data_dir = tmp_path / "d"
        try:
            first = start_embedded_postgres(data_dir, database="demo")
            started = time.perf_counter()
            second = start_embedded_postgres(data_dir, database="demo")
            assert second == first
            assert time.perf_counter() - started < 2.0  # reuse, not a second init
            conn = await asyncpg.connect(plain_url(first))
            try:
                assert await conn.fetchval("SELECT current_database()") == "demo"
                assert (await conn.fetchval("SHOW server_version")).startswith("16.")
            finally:
                await conn.close()
        finally:
            assert stop_embedded_postgres(data_dir) is True
        assert not (data_dir / "pg" / "postmaster.pid").exists()


class TestEmbeddedRedis:
    def test_starts_and_answers(self, tmp_path: Path) -> None:
        import redis

        url = start_embedded_redis(tmp_path)
        try:
            assert url.startswith("unix://")
            assert start_embedded_redis(tmp_path) == url  # reused in-process
            client = redis.Redis.from_url(url)
            client.set("rnu:test", "1")
            assert client.get("rnu:test") == b"1"
            client.close()
        finally:
            stop_embedded_redis()


class TestConfiguredUrls:
    def test_configured_urls_replace_embedded(self, server_url: str, redis_url: str) -> None:
        settings = Settings(database_url=server_url, redis_url=redis_url)
        endpoints = resolve_endpoints(settings)
        assert endpoints.database_url == server_url
        assert endpoints.redis_url == redis_url
        assert not endpoints.embedded_postgres
        assert not endpoints.embedded_redis

    def test_unreachable_database_is_one_clear_line(self) -> None:
        settings = Settings(database_url="postgresql://rnu:s3cret@127.0.0.1:9/rnu")
        with pytest.raises(ServiceUnavailable) as info:
            resolve_endpoints(settings)
        message = str(info.value)
        assert "127.0.0.1:9" in message
        assert "RNU_DATABASE_URL" in message
        assert "s3cret" not in message
        assert "\n" not in message

    def test_unreachable_redis_is_one_clear_line(self, server_url: str) -> None:
        settings = Settings(database_url=None, redis_url="redis://127.0.0.1:9/0")
        settings_db = Settings(database_url="postgresql://x@127.0.0.1:9/x")
        with pytest.raises(ServiceUnavailable, match="RNU_DATABASE_URL"):
            resolve_endpoints(settings_db)
        from rnu.embedded import check_reachable

        with pytest.raises(ServiceUnavailable, match=r"Redis at redis://127\.0\.0\.1:9/0"):
            check_reachable(
                settings.redis_url or "",
                what="Redis",
                variable="RNU_REDIS_URL",
                default_port=6379,
            )

    def test_cli_reports_unreachable_server_without_traceback(self) -> None:
        env = {**os.environ, "RNU_DATABASE_URL": "postgresql://postgres@127.0.0.1:9/rnu"}
        result = subprocess.run(
            [sys.executable, "-m", "cli", "db", "upgrade"],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=60,
        )
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, result.stderr
        assert "Cannot reach PostgreSQL at postgresql://postgres@127.0.0.1:9/rnu" in lines[0]


def test_redact_hides_password() -> None:
    assert redact("postgresql://u:pw@h:5432/d") == "postgresql://u:***@h:5432/d"
    assert redact("redis://h:6379/0") == "redis://h:6379/0"
