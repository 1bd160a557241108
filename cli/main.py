"""The `rnu` command line, the composition root: every command is registered here.

Commands live in the modules of this package (`cli.load`, `cli.integrity`, …); each is a
thin wrapper that parses options, calls a use case or a core function, and prints.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from cli.consoles import err
from cli.consoles import out as stdout
from rnu.config import get_settings
from rnu.errors import RnuError

console = err
app = typer.Typer(
    help="RNU — Registro Nacional de Usuarios. Example: `rnu demo`.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema. Example: `rnu db upgrade`.", no_args_is_help=True)
services_app = typer.Typer(
    help="The embedded PostgreSQL and Redis. Example: `rnu services status`.",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")
app.add_typer(services_app, name="services")


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}", style="bold", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


def database_url() -> str:
    """The configured database URL, starting the embedded server when none is configured."""
    from rnu.embedded import check_reachable, start_embedded_postgres

    settings = get_settings()
    if settings.database_url:
        check_reachable(
            settings.database_url,
            what="PostgreSQL",
            variable="RNU_DATABASE_URL",
            default_port=5432,
        )
        return settings.database_url
    with console.status("Starting the embedded PostgreSQL…"):
        return start_embedded_postgres(settings.data_dir)


@app.command()
def synth(
    out: Annotated[Path, typer.Option(help="Folder to write the files and truth/ into.")],
    people: Annotated[int, typer.Option(min=10, help="How many people in the PGH.")] = 50_000,
    seed: Annotated[int, typer.Option(help="Same seed, same country.")] = 7,
    period: Annotated[str, typer.Option(help="Period of the rolls, YYYY-MM.")] = "2026-10",
) -> None:
    """Write a synthetic Peru: the PGH, RENIEC deaths, every program's file and truth/.

    Example: `rnu synth --people 50000 --seed 7 --out ./pais`
    """
    from rnu.synth import generate

    with progress_bar() as bar:
        task = bar.add_task("Synthetic Peru", total=people, rate="")

        def advance(done: int) -> None:
            speed = bar.tasks[task].speed
            rate = f"{speed:,.0f} people/s" if speed else ""
            bar.update(task, completed=done, rate=rate)

        summary = generate(out, people=people, seed=seed, period=period, progress=advance)
    from rich.table import Table

    title = f"Written to {out}"
    table = Table(title=title, min_width=len(title))
    table.add_column("file")
    table.add_column("rows", justify="right")
    for name, rows in summary.files.items():
        table.add_row(name, f"{rows:,}")
    stdout.print(table)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or update the schema (safe to run again).

    Example: `RNU_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/rnu rnu db upgrade`
    """
    from rnu.embedded import redact
    from rnu.migrate import upgrade

    url = database_url()
    with console.status("Applying migrations…"):
        upgrade(url)
    from rnu.program.service import sync_programs_sync
    from rnu.ubigeo.service import load_reference_sync

    districts = load_reference_sync(url)
    programs = sync_programs_sync(url)
    console.print(
        f"Schema up to date at {redact(url)}; {districts:,} districts, {programs} programs."
    )


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target, e.g. base")]) -> None:
    """Undo migrations down to REVISION. Example: `rnu db downgrade base`."""
    from rnu.migrate import downgrade

    downgrade(database_url(), revision)


@services_app.command("status")
def services_status() -> None:
    """Say which PostgreSQL and Redis RNU uses, and whether they run; starts nothing.

    Example: `rnu services status`
    """
    from rnu.embedded import embedded_postgres_pid, is_reachable, redact

    settings = get_settings()
    if settings.database_url:
        up = is_reachable(settings.database_url, default_port=5432)
        state = "answers" if up else "does not answer"
        console.print(f"PostgreSQL (configured): {redact(settings.database_url)} — {state}")
    else:
        pid = embedded_postgres_pid(settings.data_dir)
        where = settings.data_dir / "pg"
        state = f"running (pid {pid})" if pid else "stopped (the next command starts it)"
        console.print(f"PostgreSQL (embedded, {where}): {state}")
    if settings.redis_url:
        up = is_reachable(settings.redis_url, default_port=6379)
        state = "answers" if up else "does not answer"
        console.print(f"Redis (configured): {redact(settings.redis_url)} — {state}")
    else:
        console.print(
            f"Redis (embedded, {settings.data_dir / 'redis'}): started by each command "
            "that needs it, stopped when it ends"
        )


@services_app.command("stop")
def services_stop() -> None:
    """Stop the embedded PostgreSQL of the data folder. Example: `rnu services stop`."""
    from rnu.embedded import stop_embedded_postgres

    stopped = stop_embedded_postgres(get_settings().data_dir)
    console.print("Embedded PostgreSQL stopped." if stopped else "No embedded PostgreSQL ran.")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port to listen on.")] = None,
) -> None:
    """Serve the web app and the API. Example: `rnu serve --port 8000`."""
    import uvicorn

    from api.serving import UVICORN_OPTIONS

    settings = get_settings()
    database_url()  # fail early, in one line, when the database is unreachable
    uvicorn.run(
        "web.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        log_level="info",
        **UVICORN_OPTIONS,  # proxy headers off: RNU parses X-Forwarded-For itself
    )


@app.command()
def demo(
    people: Annotated[int, typer.Option(help="Size of the synthetic country.")] = 50_000,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic country.")] = 7,
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve")] = True,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port to serve on.")] = None,
) -> None:
    """Build a synthetic Peru, load every program, match, flag and serve it.

    Example: `rnu demo --people 50000`
    """
    from cli import demo as steps
    from cli.load import load_directory

    settings = get_settings()
    country = settings.data_dir / f"pais-{people}-{seed}"
    if not (country / "truth" / "config.json").exists():
        synth(out=country, people=people, seed=seed, period="2026-10")
    db_upgrade()
    url = database_url()
    load_directory(url, country)
    steps.pgh_duplicates(url)
    steps.print_findings(url)
    site = f"http://{settings.host}:{port or settings.port}/"
    steps.print_next_steps(site)
    if serve_after:
        with steps.background_worker():
            console.print(
                Text.assemble(
                    "\n",
                    ("RNU is ready.", "bold green"),
                    f" Open {site} in your browser (Ctrl+C stops).",
                )
            )
            serve(host=None, port=port)


def _register_subcommands() -> None:
    from cli import agencies, integrity, load, staff, worker

    for module in (load, agencies, staff, integrity, worker):
        module.register(app, database_url)


_register_subcommands()


def main() -> None:
    """Entry point: domain errors become one clear line and exit status 2, not a traceback."""
    try:
        app()
    except RnuError as exc:
        console.print(Text.assemble(("error:", "bold red"), f" {exc}"), soft_wrap=True)
        sys.exit(2)
    except OSError as exc:  # a file that cannot be read or written, a server not reachable
        where = f"{exc.filename}: " if exc.filename else ""
        console.print(
            Text.assemble(("error:", "bold red"), f" {where}{exc.strerror or exc}"),
            soft_wrap=True,
        )
        sys.exit(2)
