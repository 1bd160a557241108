"""`rnu load`, `rnu batches`, `rnu quarantine` and `rnu links export`: the operator's view."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from cli.consoles import err, out
from rnu.db import connect_raw
from rnu.errors import InvalidInput, RnuError
from rnu.ingest.batch import BatchResult
from rnu.ingest.links import export_links
from rnu.outputs import output_file
from usecases.loads import (
    PlannedFile,
    count_lines_estimate,
    load_file,
    plan_directory,
    plan_file,
    write_quarantine,
)

console = err


def _bar() -> Progress:
    return Progress(
        TextColumn("{task.description:<28}", style="bold", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=console,
    )


def _advance(bar: Progress, task: TaskID) -> Callable[[int], None]:
    def progress(done: int) -> None:
        speed = bar.tasks[task].speed
        bar.update(task, completed=done, rate=f"{speed:,.0f} rows/s" if speed else "")

    return progress


def load_planned(
    database_url: str, planned: list[PlannedFile], *, confirm_drop: bool = False
) -> list[BatchResult]:
    """Load files in order with one progress bar each, then print the outcome table.

    Of several files, one that fails (a corrupt workbook, a truncated gzip) is reported and
    the others still load: a month's folder with one bad file used to stop at it, leaving
    every later roll unloaded and no table. A failed PGH stops the rest, though: the rolls
    would be matched against last month's PGH. Any failure makes the command fail (exit 2).
    """
    results: list[BatchResult] = []
    failed: list[tuple[str, str]] = []
    skipped: list[str] = []
    with _bar() as bar:
        for n, item in enumerate(planned):
            total = count_lines_estimate(item.path)
            task = bar.add_task(item.path.name, total=total, rate="")
            try:
                result = asyncio.run(
                    load_file(
                        database_url, item, progress=_advance(bar, task), confirm_drop=confirm_drop
                    )
                )
            except RnuError as exc:
                if len(planned) == 1:
                    raise
                failed.append((item.path.name, str(exc)))
                if item.sector == "pgh":
                    skipped = [p.path.name for p in planned[n + 1 :]]
                    break
                continue
            bar.update(task, total=result.rows_read or 1, completed=result.rows_read or 1)
            results.append(result)
    print_results(results)
    for name, why in failed:
        console.print(f"failed: {name}: {why}", soft_wrap=True)
    if skipped:
        console.print(
            f"not loaded, the PGH having failed (they would be matched against an outdated "
            f"one): {', '.join(skipped)}",
            soft_wrap=True,
        )
    if failed:
        raise InvalidInput(
            f"{len(failed)} of {len(planned)} files failed to load"
            + (f", {len(skipped)} not tried" if skipped else "")
            + "; the others are loaded (see above)"
        )
    return results


def print_results(results: list[BatchResult]) -> None:
    table = Table(title="Load outcomes")
    numbers = ("read", "loaded", "quarantined", "linked", "review", "unmatched", "enrolled")
    table.add_column("file")
    table.add_column("batch", justify="right")
    table.add_column("status")
    for column in numbers:
        table.add_column(column, justify="right")
    for r in results:
        counts = {"read": r.rows_read, "loaded": r.rows_loaded, **r.outcomes}
        counts["quarantined"] = r.rows_quarantined
        table.add_row(
            r.file_name,
            str(r.batch_id),
            r.status,
            *(f"{counts[c]:,}" if c in counts else "" for c in numbers),
        )
    out.print(table)


def load_directory(
    database_url: str, folder: Path, *, confirm_drop: bool = False
) -> list[BatchResult]:
    planned = plan_directory(folder)
    if not planned:
        console.print(f"No recognised files in {folder}.")
        return []
    return load_planned(database_url, planned, confirm_drop=confirm_drop)


def register(app: typer.Typer, database_url: Callable[[], str]) -> None:
    """Add the ingestion commands to the main CLI (`database_url` resolves the server)."""

    @app.command()
    def load(
        target: Annotated[
            str,
            typer.Argument(
                help="A sector or program (pgh, deaths, juntos, PENSION65, …) or 'all'."
            ),
        ],
        path: Annotated[Path, typer.Argument(help="The file, or the folder for 'all'.")],
        period: Annotated[
            str | None, typer.Option(help="YYYY-MM when the file name does not say it.")
        ] = None,
        confirm_drop: Annotated[
            bool,
            typer.Option(
                "--confirm-drop",
                help="Replace the period's roll even when the new one is less than half of it.",
            ),
        ] = False,
    ) -> None:
        """Load a sector's file (or every recognised file of a folder) as atomic batches.

        Examples: `rnu load all ./pais`, `rnu load juntos juntos_202610.txt`,
        `rnu load SIS roll.csv.gz --period 2026-10`.
        """
        url = database_url()
        if target.lower() == "all":
            load_directory(url, path, confirm_drop=confirm_drop)
        else:
            load_planned(url, [plan_file(path, target, period)], confirm_drop=confirm_drop)

    @app.command()
    def batches(
        limit: Annotated[int, typer.Option(min=1, help="How many of the latest batches.")] = 50,
    ) -> None:
        """List load batches with their counts. Example: `rnu batches --limit 20`."""

        async def fetch() -> list[dict[str, object]]:
            conn = await connect_raw(database_url())
            try:
                rows = await conn.fetch(
                    """
                    SELECT id, source, period, file_name, status, rows_read, rows_loaded,
                           rows_quarantined, outcomes, started_at
                    FROM load_batch ORDER BY id DESC LIMIT $1
                    """,
                    limit,
                )
            finally:
                await conn.close()
            return [dict(r) for r in rows]

        table = Table(title="Load batches")
        for column in ("id", "source", "period", "file", "status", "read", "loaded", "quar."):
            table.add_column(column)
        for r in asyncio.run(fetch()):
            table.add_row(
                str(r["id"]),
                str(r["source"]),
                str(r["period"]),
                str(r["file_name"]),
                str(r["status"]),
                f"{r['rows_read']:,}",
                f"{r['rows_loaded']:,}",
                f"{r['rows_quarantined']:,}",
            )
        out.print(table)

    @app.command()
    def quarantine(
        batch: Annotated[int, typer.Argument(help="The batch id (see `rnu batches`).")],
        out_file: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
    ) -> None:
        """Write a batch's quarantined rows, with reasons in Spanish, for the sector to fix.

        Example: `rnu quarantine 12 --out cuarentena.csv`
        """
        out = output_file(out_file)  # before the database is reached
        n = asyncio.run(write_quarantine(database_url(), batch, out))
        console.print(f"{n:,} quarantined rows written to {out_file}.")

    links_app = typer.Typer(help="Matching decisions. Example: `rnu links export --out l.csv`.")
    app.add_typer(links_app, name="links")

    @links_app.command("export")
    def links_export(
        out_file: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
    ) -> None:
        """Every loaded or quarantined program row with its matching decision (docs/formats.md).

        Example: `rnu links export --out links.csv`
        """
        out = output_file(out_file)  # before the database is reached
        n = asyncio.run(export_links(database_url(), out))
        console.print(f"{n:,} rows written to {out_file}.")
