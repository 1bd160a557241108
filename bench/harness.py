"""Shared plumbing for the end-to-end benchmarks: a synthetic country in a fresh database."""

from __future__ import annotations

import asyncio
import os
import resource
import secrets
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from rnu.embedded import plain_url, start_embedded_postgres
from rnu.migrate import upgrade
from rnu.program.service import sync_programs
from rnu.ubigeo.service import load_reference

ROOT = Path(__file__).resolve().parent.parent


def peak_rss_mb() -> float:
    """Peak resident memory of this process and its finished children, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def postgres_cpu_seconds() -> float | None:
    """CPU (user + system) the embedded PostgreSQL server has used so far, all processes.

    The postmaster's own time, its exited children's (backends that closed: cutime/cstime)
    and its live children's; None when the server is not the embedded one of this machine.
    Each engineer's benches use their own embedded server, so this is the bench's work.
    """
    data = Path(os.environ.get("RNU_DATA_DIR", ROOT / ".rnu")) / "pg" / "postmaster.pid"
    try:
        master = int(data.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    ticks = os.sysconf("SC_CLK_TCK")

    def fields(pid: int) -> list[str]:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat[stat.rindex(")") + 2 :].split()

    try:
        own = fields(master)
    except OSError:
        return None
    total = sum(int(f) for f in own[11:15])  # utime stime cutime cstime
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == master:
            continue
        try:
            f = fields(int(entry.name))
        except OSError:
            continue
        if int(f[1]) == master:  # a live child: its own time (not yet in cutime)
            total += int(f[11]) + int(f[12])
    return total / ticks


def server_url() -> str:
    """RNU_DATABASE_URL's server when set, else the embedded one in ./.rnu."""
    configured = os.environ.get("RNU_DATABASE_URL")
    if configured:
        return configured
    return start_embedded_postgres(Path(os.environ.get("RNU_DATA_DIR", ROOT / ".rnu")))


def fresh_database(prefix: str) -> str:
    """A new, migrated database for one benchmark run (dropped by `drop_database`)."""
    base = server_url()
    name = f"{prefix}_{secrets.token_hex(3)}"

    async def create() -> None:
        conn = await asyncpg.connect(plain_url(base))
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    # replace the URL's path only: an embedded server's socket folder sits in the query
    db_url = urlunsplit(urlsplit(plain_url(base))._replace(path=f"/{name}"))
    upgrade(db_url)
    asyncio.run(load_reference(db_url))
    asyncio.run(sync_programs(db_url))
    return db_url


def drop_database(db_url: str) -> None:
    name = urlsplit(db_url).path.lstrip("/")

    async def drop() -> None:
        conn = await asyncpg.connect(plain_url(server_url()))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(drop())


class Stopwatch:
    def __init__(self) -> None:
        self.marks: dict[str, float] = {}

    def time(self, name: str) -> _Timer:
        return _Timer(self, name)


class _Timer:
    def __init__(self, watch: Stopwatch, name: str) -> None:
        self.watch, self.name = watch, name

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.watch.marks[self.name] = time.perf_counter() - self.started
