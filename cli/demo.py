"""`rnu demo`'s steps after the load: the PGH's own duplicates, what was found, how to go on.

The demo serves the site with a background worker beside it (a subprocess running
`rnu worker`), so a roll uploaded through `/api/v1/cargas` loads instead of staying
`queued`.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from collections.abc import Iterator

from rich.table import Table

from cli.consoles import err, out
from rnu.integrity.pgh_duplicates import check_pgh_duplicates
from rnu.integrity.service import open_flags_by_kind

ANALYST_HINT = (
    "printf '%s\\n' 'a-password-of-12+-characters' | "
    "rnu users add ana --role analyst --password-stdin"
)


def pgh_duplicates(database_url: str) -> None:
    """Look for people the PGH holds twice (the per-batch checks do not: it is registry-wide)."""
    with err.status("Looking for duplicates inside the PGH…"):
        result = asyncio.run(check_pgh_duplicates(database_url))
    found = sum(result.found.values())
    err.print(f"PGH duplicates: {found:,} pairs ({result.inserted:,} new flags).")


def print_findings(database_url: str) -> None:
    """Open flags per kind: what the integrity checks found in the synthetic country."""
    counts = asyncio.run(open_flags_by_kind(database_url))
    title = "What the checks found (open flags)"
    table = Table(title=title, min_width=len(title))
    table.add_column("kind")
    table.add_column("flags", justify="right")
    for kind, n in counts.items():
        table.add_row(kind, f"{n:,}")
    table.add_row("total", f"{sum(counts.values()):,}", style="bold")
    out.print(table)


def print_next_steps(site: str) -> None:
    err.print(
        f"\nAnalysts' pages: create an account, then log in at {site}analista\n  {ANALYST_HINT}"
        "\n  (a supervisor or admin, --role supervisor, also gets a TOTP secret to add to an "
        "authenticator app: the login asks for its 6-digit code)",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


@contextlib.contextmanager
def background_worker() -> Iterator[subprocess.Popen[bytes]]:
    """`rnu worker` in a child process for as long as the site is served."""
    worker = subprocess.Popen([sys.executable, "-m", "cli", "worker"])
    err.print(f"Background worker started (pid {worker.pid}): uploads and notices run.")
    try:
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
