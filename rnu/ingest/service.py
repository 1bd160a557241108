"""Use cases of ingestion: load one file (its sector detected or given), or a whole folder.

Loaders are found through the `rnu.plugins` entry point, so `rnu` drives them without
importing the `loaders` package that sits above it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import asyncpg

from rnu.errors import InvalidInput
from rnu.ingest.batch import BatchResult, Progress
from rnu.ingest.deaths import load_deaths
from rnu.ingest.pgh import load_pgh
from rnu.ingest.program import ProgramFile, load_program

# PGH first (everything links to it), then deaths (they mark people), then the programs.
ORDER = ("pgh", "deaths")

log = logging.getLogger(__name__)


def loader_registry() -> ModuleType:
    """The module that knows every loader (`loaders.registry` in this distribution)."""
    found = entry_points(group="rnu.plugins", name="loaders")
    if not found:
        raise InvalidInput("no loaders are installed (entry point rnu.plugins:loaders)")
    return cast(ModuleType, next(iter(found)).load())


@dataclass(frozen=True)
class PlannedFile:
    path: Path
    sector: str
    period: str


def plan_file(path: Path, sector: str | None = None, period: str | None = None) -> PlannedFile:
    """Which sector and period a file is, from its name unless told; a clear error otherwise."""
    if not path.is_file():
        raise InvalidInput(f"{path} is not a file")
    registry = loader_registry()
    detected = registry.detect(path)
    if sector is None:
        if detected is None:
            raise InvalidInput(
                f"cannot tell which sector {path.name} comes from: name it "
                "(e.g. `rnu load juntos FILE`) or use the agreed file name (FORMATS.md)"
            )
        sector = detected[0]
    if sector not in registry.LOADERS:
        known = ", ".join(sorted(registry.LOADERS))
        raise InvalidInput(f"unknown sector {sector!r}; known: {known}")
    if period is None:
        period = detected[1] if detected and detected[0] == sector else None
    if period is None:
        raise InvalidInput(f"give the period of {path.name} with --period YYYY-MM")
    return PlannedFile(path, sector, period)


def plan_directory(folder: Path) -> list[PlannedFile]:
    """Every file of `folder` whose name a loader recognises, PGH and deaths first."""
    if not folder.is_dir():
        raise InvalidInput(f"{folder} is not a folder")
    registry = loader_registry()
    planned = []
    for path in sorted(folder.iterdir()):
        detected = registry.detect(path) if path.is_file() else None
        if detected and detected[1]:
            planned.append(PlannedFile(path, detected[0], detected[1]))

    def rank(p: PlannedFile) -> tuple[int, str]:
        return (ORDER.index(p.sector) if p.sector in ORDER else len(ORDER), p.path.name)

    return sorted(planned, key=rank)


async def load_file(
    database_url: str, planned: PlannedFile, *, progress: Progress | None = None
) -> BatchResult:
    """Load one planned file as one atomic batch."""
    registry = loader_registry()
    loader: Any = registry.LOADERS[planned.sector](period=planned.period)
    with planned.path.open("rb") as stream:
        rows = loader.rows(stream)
        if planned.sector == "pgh":
            return await load_pgh(
                database_url, planned.path, rows, period=planned.period, progress=progress
            )
        if planned.sector == "deaths":
            result = await load_deaths(
                database_url, planned.path, rows, period=planned.period, progress=progress
            )
        else:
            spec = ProgramFile(program=loader.program, period=planned.period, unit=loader.unit)
            result = await load_program(database_url, planned.path, rows, spec, progress=progress)
    if result.status == "committed":
        started = time.perf_counter()
        await _check_after(database_url, result.batch_id)
        result.timings["checks after commit"] = time.perf_counter() - started
    return result


async def _check_after(database_url: str, batch_id: int) -> None:
    """Run the integrity checks the batch calls for; the batch stays loaded if they fail.

    A failure is logged (no personal data) and `rnu check --all` repairs it later.
    """
    from rnu.integrity.service import check_batch

    try:
        await check_batch(database_url, batch_id)
    except (asyncpg.PostgresError, OSError, LookupError, ValueError):
        log.exception("integrity checks after batch %s failed", batch_id)


def count_lines_estimate(path: Path) -> int | None:
    """A cheap total for progress bars on plain-text files (None when it cannot tell)."""
    if path.suffix.lower() not in {".csv", ".txt", ".jsonl"}:
        return None
    with path.open("rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
