"""CPU seconds per load stage, Python's and PostgreSQL's, for the batch's timings.

Wall time on a shared machine says more about the neighbours than about the load; CPU time
does not. Python's is the worker thread's own (`time.thread_time`); PostgreSQL's is read
from /proc for the connection's backend when the server runs on this machine (an embedded
or local server), and is simply absent otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path

import asyncpg

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def backend_cpu(conn: asyncpg.Connection) -> float | None:
    """User + system CPU seconds the connection's backend has used, if it can be read."""
    try:
        stat = Path(f"/proc/{conn.get_server_pid()}/stat").read_text()
    except (OSError, AttributeError):
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


class BackendClock:
    """Accumulates a backend's CPU between `start` and `stop` under named stages."""

    def __init__(self, conn: asyncpg.Connection, into: dict[str, float]) -> None:
        self.conn = conn
        self.into = into
        self.mark: float | None = None

    def start(self) -> None:
        self.mark = backend_cpu(self.conn)

    def stop(self, stage: str) -> None:
        now = backend_cpu(self.conn)
        if now is not None and self.mark is not None:
            key = f"PostgreSQL CPU {stage}"
            self.into[key] = self.into.get(key, 0.0) + now - self.mark
        self.mark = now
