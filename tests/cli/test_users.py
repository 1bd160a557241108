"""`rnu users add`: piping the password (issue 13.11); weak passwords refused (issue 11.11)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_users_add_without_a_terminal_names_password_stdin() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cli", "users", "add", "ana", "--role", "analyst"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "--password-stdin" in result.stderr


def test_users_add_refuses_the_probes_admin_password(tmp_path: Path) -> None:
    """Refused before any server is started or reached (RNU_DATA_DIR stays empty)."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli",
            "users",
            "add",
            "jefa",
            "--role",
            "admin",
            "--password-stdin",
        ],
        input="123456789012\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env={**os.environ, "RNU_DATA_DIR": str(tmp_path)},
    )
    assert result.returncode == 2
    assert "only digits" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_admin_is_enrolled_for_totp_at_creation(database_url: str) -> None:
    """`rnu users add --role admin` prints the otpauth URI once; the database keeps the secret
    sealed under RNU_SECRET_KEY; `rnu users totp-enrol` replaces it."""
    import asyncio
    import secrets as random
    from urllib.parse import parse_qs, urlsplit

    import asyncpg

    from rnu.embedded import plain_url
    from rnu.staff.totp import unseal

    username = f"jefa{random.token_hex(3)}"
    env = {**os.environ, "RNU_DATABASE_URL": database_url, "RNU_SECRET_KEY": "cli-totp-secret"}

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli", "users", *args],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
            env=env,
        )

    def printed_secret(result: subprocess.CompletedProcess[str]) -> str:
        assert result.returncode == 0, result.stderr
        uri = result.stdout.strip()
        assert uri.startswith(f"otpauth://totp/RNU%20MIDIS:{username}?")
        return parse_qs(urlsplit(uri).query)["secret"][0]

    async def stored() -> tuple[int, str]:
        conn = await asyncpg.connect(plain_url(database_url))
        try:
            row = await conn.fetchrow(
                "SELECT id, totp_secret FROM staff_user WHERE username = $1", username
            )
            return int(row["id"]), str(row["totp_secret"])
        finally:
            await conn.close()

    async def drop() -> None:
        conn = await asyncpg.connect(plain_url(database_url))
        try:
            await conn.execute("DELETE FROM staff_user WHERE username = $1", username)
        finally:
            await conn.close()

    try:
        first = printed_secret(
            run("add", username, "--role", "admin", "--password-stdin", stdin="tres-llamas-y-rio\n")
        )
        user_id, sealed = asyncio.run(stored())
        assert first not in sealed
        assert unseal(b"cli-totp-secret", user_id, sealed) == first
        assert unseal(b"another-server-secret", user_id, sealed) is None
        second = printed_secret(run("totp-enrol", username))
        assert second != first
        assert unseal(b"cli-totp-secret", user_id, asyncio.run(stored())[1]) == second
    finally:
        asyncio.run(drop())
