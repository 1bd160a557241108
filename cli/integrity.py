"""`rnu check`, `rnu explain`, `rnu flags export`, `rnu crosscheck`, `rnu match`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from cli.consoles import err, out
from rnu.errors import InvalidInput
from rnu.integrity.service import CheckResult
from rnu.outputs import output_file

console = err


def print_results(results: list[CheckResult], *, title: str) -> None:
    table = Table(title=title)
    for column in ("program", "period", "findings", "new", "changed", "resolved", "seconds"):
        table.add_column(column, justify="right" if column != "findings" else "left")
    for r in results:
        findings = ", ".join(f"{k} {v:,}" for k, v in sorted(r.found.items())) or r.note or "—"
        table.add_row(
            r.program or "(registry)",
            r.period or "",
            findings,
            f"{r.inserted:,}",
            f"{r.updated:,}",
            f"{r.resolved:,}",
            f"{r.seconds:.2f}",
        )
    out.print(table)


def report_progress() -> Callable[[CheckResult, int], None]:
    """One line per program period as its check ends (a national run takes minutes)."""
    done = [0]

    def line(result: CheckResult, total: int) -> None:
        done[0] += 1
        what = f"{result.program} {result.period}" if result.program else "PGH duplicates"
        found = sum(result.found.values())
        console.print(
            f"[{done[0]}/{total}] {what}: {found:,} findings, {result.inserted:,} new, "
            f"{result.resolved:,} resolved ({result.seconds:.1f} s)",
            markup=False,
            highlight=False,
        )

    return line


def describe_changes(results: list[CheckResult]) -> str:
    """What a run changed, in one phrase."""
    new = sum(r.inserted for r in results)
    changed = sum(r.updated for r in results)
    resolved = sum(r.resolved for r in results)
    return f"{len(results)} runs, {new:,} new flags, {changed:,} changed, {resolved:,} resolved"


def mask(number: str) -> str:
    """Keep the last three digits, as the privacy masks do: a console may be logged."""
    return "*" * max(len(number) - 3, 0) + number[-3:]


async def _explain(database_url: str, dni: str, program: str, period: str) -> None:
    from rnu.db import make_engine, make_sessionmaker
    from rnu.eligibility import repository
    from rnu.eligibility import service as eligibility_service
    from usecases.wording import explain_lines, program_name, verdict

    engine = make_engine(database_url, pool_size=1, role="cli-explain")
    try:
        async with make_sessionmaker(engine)() as session:
            person_id = await repository.find_person_by_document(session, number=dni)
            trace = await eligibility_service.explain(
                session, person_id=person_id, program_code=program, period=period
            )
    finally:
        await engine.dispose()
    out.print(
        Text.assemble(
            (program_name(trace.program), "bold"),
            f" — DNI {mask(dni)} — periodo {period} (reglas vigentes desde "
            f"{trace.rule_version}, evaluadas al {trace.as_of:%d/%m/%Y})",
        ),
        soft_wrap=True,
    )
    for status, text in explain_lines(trace):
        out.print(f"  {status}: {text}", soft_wrap=True, markup=False)
    out.print(verdict(trace), soft_wrap=True, markup=False)


def program_period(program: str, period: str) -> tuple[str, str]:
    """A program code and period as an operator typed them, checked; InvalidInput else."""
    from rnu.eligibility.rules import load_programs
    from rnu.period import roll_period

    programs = load_programs()
    code = program.strip().upper()
    if code not in programs:
        raise InvalidInput(f"unknown program {program!r}; known: {', '.join(sorted(programs))}")
    return code, roll_period(period, yearly=programs[code].yearly)


def register(app: typer.Typer, database_url: Any) -> None:
    """Add the integrity commands to the main CLI (`database_url` resolves the server)."""

    @app.command()
    def check(
        all_: Annotated[
            bool, typer.Option("--all", help="Every loaded program period, and the PGH.")
        ] = False,
        batch: Annotated[
            int | None, typer.Option(help="Only what this batch calls for (see `rnu batches`).")
        ] = None,
        program: Annotated[str | None, typer.Option(help="One program, with --period.")] = None,
        period: Annotated[str | None, typer.Option(help="YYYY-MM (or YYYY for Beca 18).")] = None,
        pgh_duplicates: Annotated[
            bool, typer.Option(help="With --all, also look for duplicates inside the PGH.")
        ] = True,
    ) -> None:
        """Run the integrity checks and write flags (idempotent: rerun at will).

        Examples: `rnu check --all`, `rnu check --batch 12`,
        `rnu check --program PENSION65 --period 2026-10`.
        """
        from rnu.integrity import service

        url = database_url()
        started = time.perf_counter()
        if all_:
            results = asyncio.run(
                service.check_all(url, pgh_duplicates=pgh_duplicates, on_result=report_progress())
            )
        elif batch is not None:
            results = asyncio.run(service.check_batch(url, batch))
        elif program and period:
            code, period = program_period(program, period)

            async def one() -> list[CheckResult]:
                from rnu.db import connect_raw

                conn = await connect_raw(url)
                try:
                    return [await service.check_program_period(conn, code, period)]
                finally:
                    await conn.close()

            results = asyncio.run(one())
        else:
            raise InvalidInput("say what to check: --all, --batch ID, or --program and --period")
        print_results(results, title="Integrity checks")
        console.print(
            f"Done in {time.perf_counter() - started:.1f} s: {describe_changes(results)}."
        )

    @app.command()
    def explain(
        dni: Annotated[str, typer.Argument(help="The person's DNI (or CUI).")],
        program: Annotated[str, typer.Argument(help="Program code, e.g. PENSION65.")],
        period: Annotated[str, typer.Argument(help="YYYY-MM (or YYYY for Beca 18).")],
    ) -> None:
        """Every rule of a program for one person and period, with the facts, in Spanish.

        Example: `rnu explain 01234567 PENSION65 2026-10`
        """
        code, period = program_period(program, period)
        asyncio.run(_explain(database_url(), dni.strip(), code, period))

    flags_app = typer.Typer(help="Integrity flags. Example: `rnu flags export --out f.csv`.")
    app.add_typer(flags_app, name="flags")

    @flags_app.command("export")
    def flags_export(
        out_file: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
    ) -> None:
        """Every open flag as `kind,program,period,person_key,file,row_number,status`.

        Example: `rnu flags export --out flags.csv`
        """
        from rnu.integrity.export import export_flags

        out = output_file(out_file)  # before the database is reached
        n = asyncio.run(export_flags(database_url(), out))
        console.print(f"{n:,} open flags written to {out_file}.")

    @app.command()
    def crosscheck(
        list_file: Annotated[Path, typer.Argument(help="The outside list (any layout).")],
        map_file: Annotated[Path, typer.Option("--map", help="Its mapping (TOML).")],
        kind: Annotated[str, typer.Option(help="Flag kind, e.g. prisoner or pensioner.")],
        period: Annotated[
            list[str] | None, typer.Option(help="Only these periods (repeatable).")
        ] = None,
    ) -> None:
        """Match an outside list against the registry and flag the programs it may not receive.

        Which programs a kind excludes is data: `forbidden_lists` in rules.toml.
        Example: `rnu crosscheck inpe.csv --map loaders/mappings/example_inpe.toml --kind prisoner`
        """
        from rnu.integrity.lists import check_kind, crosscheck
        from usecases.lists import read_list

        check_kind(kind)
        if period:  # each a month or a year (a program's roll may be either)
            from rnu.period import Period

            period = [str(Period.parse(p, compact=True)) for p in period]
        rows, rejected = read_list(list_file, map_file)
        result = asyncio.run(
            crosscheck(
                database_url(),
                rows,
                kind=kind,
                list_name=list_file.name,
                rejected=rejected,
                periods=period,
            )
        )
        table = Table(title=f"Cross-check {list_file.name} ({kind})")
        table.add_column("program")
        table.add_column("period")
        table.add_column("flags", justify="right")
        for (code, per), n in sorted(result.flags.items()):
            table.add_row(code, per, f"{n:,}")
        out.print(table)
        console.print(
            f"{result.rows:,} rows read ({result.rejected:,} rejected), {result.matched:,} "
            f"linked to the PGH, in {result.seconds:.1f} s."
        )

    @app.command()
    def match(
        left: Annotated[Path, typer.Argument(help="The first list.")],
        right: Annotated[
            Path | None, typer.Argument(help="The second list; omit it to dedupe LEFT.")
        ] = None,
        map_file: Annotated[Path, typer.Option("--map", help="Mapping of LEFT (TOML).")] = Path(),
        right_map: Annotated[
            Path | None, typer.Option(help="Mapping of RIGHT when it differs from --map.")
        ] = None,
        out_file: Annotated[Path, typer.Option("--out", help="CSV of pairs.")] = Path("pairs.csv"),
        rejects: Annotated[
            Path | None, typer.Option(help="CSV of rejected rows (default: OUT_rejects.csv).")
        ] = None,
        clusters: Annotated[
            Path | None, typer.Option(help="Dedupe: CSV id,cluster (default: OUT_clusters.csv).")
        ] = None,
        threshold: Annotated[
            float | None, typer.Option(help="Link at this match probability (default 0.995).")
        ] = None,
        review_threshold: Annotated[
            float | None, typer.Option(help="Review from this probability (default 0.5).")
        ] = None,
        all_pairs: Annotated[
            bool, typer.Option("--all-pairs", help="Write every scored pair, with its score.")
        ] = False,
    ) -> None:
        """Link two lists (or dedupe one) with the matching engine; no database needed.

        Writes `left_id,right_id,weight,probability,outcome,cluster` and one column per field
        agreement; ids come from the mapping's `id` column. Prints the fitted model.
        Example: `rnu match a.csv b.csv --map m.toml --out pairs.csv` (see docs/matching.md).
        """
        from rnu.matching.command import MatchOptions, run
        from rnu.matching.lists import ListError

        if not map_file.is_file():
            raise InvalidInput("give the mapping of LEFT with --map MAP.toml")
        options = MatchOptions(
            left, right, map_file, right_map, out_file, rejects, clusters, threshold,
            review_threshold, all_pairs,
        )  # fmt: skip
        try:
            run(options, lambda line: console.print(line, soft_wrap=True, markup=False))
        except ListError as exc:
            raise InvalidInput(str(exc)) from None
