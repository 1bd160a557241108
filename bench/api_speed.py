"""Server CPU per request of the public API against a bare FastAPI route, in the same run.

    .venv/bin/python -m bench.api_speed [--people 2000] [--requests 3000] [--concurrency 8]

Builds a small synthetic country with the project's own generator and loaders
(``rnu.synth.build.generate``, ``usecases.loads.load_file``: PGH, deaths, every program's
roll, checks) in a fresh database on the embedded PostgreSQL, starts an embedded Redis, and
serves two uvicorn processes (one worker each, on loopback, with the flags ``rnu serve`` uses):
the RNU site, and a bare FastAPI app with one GET returning a small JSON. Each scenario sends
``--requests`` requests from ``--concurrency`` keep-alive clients (each sends its next request
when its last one answered) and reads the server process's CPU time (utime + stime from
``/proc/<pid>/stat``) before and after, so the figure is the server's own work per request:
it holds on a busy machine, where requests/s and latencies do not.

Scenarios: bare route; cached self-lookup (the same 50 DNI + birth date pairs, looked up once
before so each request is a cache hit); uncached self-lookup (each request a DNI not looked up
yet); a masked roll page; statistics. ``--compare`` adds a second RNU process with the
lookup fast path off (``RNU_LOOKUP_FAST_PATH=false``), so both paths are measured in the run.

Rate limits: the site trusts 127.0.0.1 as a proxy (``RNU_TRUSTED_PROXIES``) and each client
sends its own ``X-Forwarded-For`` address, as nginx would, so every request goes through the
real per-client counters and the DNI lanes; the per-client budgets are raised by environment
(``RNU_LOOKUP_PER_CLIENT``, ``RNU_PUBLIC_PER_CLIENT``) because one bench client sends
thousands of lookups. The counters are still incremented and read on every request.

The load generator is a bare HTTP/1.1 client (``bench/rawhttp.py``: httpx would spend about a
millisecond of CPU per request on a machine the server shares).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import asyncpg
import httpx
from fastapi import FastAPI

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script too

from api.serving import UVICORN_FLAGS
from bench.harness import ROOT, drop_database, fresh_database, postgres_cpu_seconds
from bench.rawhttp import RawClient, Reply
from rnu.embedded import plain_url, start_embedded_redis

DISTRICTS = ["150101", "150103", "150105", "150108", "150110"]
HOT = 50  # the cached scenario cycles over this many people, each looked up once before


def bare_app() -> FastAPI:
    """The yardstick: one JSON route, no middleware, no database."""
    app = FastAPI()

    @app.get("/bare")
    async def bare() -> dict[str, bool]:
        return {"ok": True}

    return app


async def seed(db_url: str, people: int) -> None:
    """People with DNIs 3xxxxxxx born 1950-03-09, one household each, in PENSION65 and SIS.

    A quick fixed population for ``bench/graphql_speed.py``; this bench loads a synthetic
    country through the loaders instead (``load_country``).
    """
    conn = await asyncpg.connect(plain_url(db_url))
    try:
        async with conn.transaction():
            await conn.execute(
                """
                INSERT INTO household (pgh_code, ubigeo, area, cse, cse_valid_from, cse_valid_to)
                SELECT 'B' || g, ($1::text[])[1 + g % $2], 'U', 'PE', '2025-01-01', '2028-01-01'
                  FROM generate_series(1, $3) g
                """,
                DISTRICTS, len(DISTRICTS), people,
            )  # fmt: skip
            await conn.execute(
                """
                INSERT INTO person (pgh_key, doc_type, doc_number, nombres, apellido_paterno,
                                    apellido_materno, birth_on, sex, ubigeo)
                SELECT 'B' || g || '-1', 'DNI', lpad((30000000 + g)::text, 8, '0'),
                       'NOMBRE' || g, 'PATERNO', 'MATERNO', '1950-03-09', 'F', h.ubigeo
                  FROM generate_series(1, $1) g JOIN household h ON h.pgh_code = 'B' || g
                """,
                people,
            )
            await conn.execute(
                """
                INSERT INTO household_member (person_id, household_id, member_number, relationship)
                SELECT p.id, h.id, 1, 1 FROM person p
                  JOIN household h ON h.pgh_code = split_part(p.pgh_key, '-', 1)
                """
            )
            for program in ("PENSION65", "SIS"):
                batch_id = await conn.fetchval(
                    "INSERT INTO load_batch (source, period, file_name, sha256, status, rows_read,"
                    " rows_loaded, rows_quarantined) VALUES ($1, '2026-10', $2, $3, 'committed',"
                    " $4, $4, 0) RETURNING id",
                    program, f"{program}.bench", f"{program:0>64}"[-64:], people,
                )  # fmt: skip
                await conn.execute(
                    """
                    INSERT INTO roll_row (batch_id, row_number, person_id, outcome, method)
                    SELECT $1, p.id::text, p.id, 'linked', 'exact_document' FROM person p
                    """,
                    batch_id,
                )
                await conn.execute(
                    """
                    INSERT INTO enrollment (person_id, program_code, period, household_id, ubigeo,
                                            batch_id, roll_row_id, match_method)
                    SELECT r.person_id, $2, '2026-10', m.household_id, p.ubigeo, $1, r.id,
                           'exact_document'
                      FROM roll_row r JOIN person p ON p.id = r.person_id
                      JOIN household_member m ON m.person_id = p.id
                     WHERE r.batch_id = $1
                    """,
                    batch_id, program,
                )  # fmt: skip
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


@dataclass(frozen=True)
class Country:
    """What the scenarios ask for: people to look up, a roll slice with entries."""

    lookups: list[tuple[str, str]]  # (DNI, birth date) of enrolled people, one per DNI
    roll: dict[str, str]  # programa, ubigeo


async def load_country(db_url: str, people: int, seed_value: int) -> Country:
    """A synthetic country written by ``rnu synth`` and loaded as ``rnu load all`` does."""
    from rnu.synth.build import generate
    from usecases.loads import load_file, plan_directory

    folder = Path(tempfile.mkdtemp(prefix="rnu-api-speed-"))
    try:
        await asyncio.to_thread(generate, folder, people=people, seed=seed_value)
        for planned in plan_directory(folder):
            await load_file(db_url, planned)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    conn = await asyncpg.connect(plain_url(db_url))
    try:
        rows = await conn.fetch(
            """
            SELECT p.doc_number, min(p.birth_on)::text AS birth
              FROM person p
             WHERE p.doc_type = 'DNI' AND p.birth_on IS NOT NULL
               AND EXISTS (SELECT 1 FROM enrollment e WHERE e.person_id = p.id)
             GROUP BY p.doc_number HAVING count(*) = 1
             ORDER BY md5(p.doc_number)
            """
        )
        roll = await conn.fetchrow(
            "SELECT program_code, ubigeo FROM enrollment"
            " WHERE ubigeo IS NOT NULL AND program_code <> 'CONTIGO'"
            " GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1"
        )
    finally:
        await conn.close()
    return Country(
        lookups=[(r["doc_number"], r["birth"]) for r in rows],
        roll={"programa": roll["program_code"], "ubigeo": roll["ubigeo"]},
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(factory: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """One uvicorn process, one worker, on loopback, as ``rnu serve`` runs it; it and its URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", *UVICORN_FLAGS],
        cwd=ROOT, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{url}/healthz" if "web" in factory else f"{url}/bare").status_code < 500:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError(f"{factory} did not start")


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process so far (its own threads included), from /proc."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


Request = Callable[[RawClient, int], Awaitable[Reply]]


async def drive(
    base: str,
    request: Request,
    *,
    seconds: float = 3600.0,
    concurrency: int,
    limit: int | None = None,
    pid: int | None = None,
    client_headers: Callable[[int], dict[str, str]] | None = None,
) -> dict[str, float]:
    """Closed-loop load: ``concurrency`` clients for ``seconds`` or ``limit`` calls in all.

    With ``pid``, the server process's CPU over the run is read from /proc (``cpu_us`` per
    request; PostgreSQL's too when it is the embedded server). ``client_headers(i)`` gives
    client ``i`` headers of its own (its forwarded address).
    """
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    counter = itertools.count()
    deadline = time.perf_counter() + seconds
    clients = [
        RawClient(base, headers=client_headers(i) if client_headers else None)
        for i in range(concurrency)
    ]

    async def worker(client: RawClient) -> None:
        while time.perf_counter() < deadline:
            n = next(counter)
            if limit is not None and n >= limit:
                return
            start = time.perf_counter()
            response = await request(client, n)
            latencies.append(time.perf_counter() - start)
            statuses[response.status_code] += 1

    cpu_before = cpu_seconds(pid) if pid else 0.0
    pg_before = postgres_cpu_seconds() if pid else None
    started = time.perf_counter()
    await asyncio.gather(*(worker(client) for client in clients))
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds(pid) - cpu_before if pid else 0.0
    pg_after = postgres_cpu_seconds() if pid else None
    for client in clients:
        await client.close()
    q = statistics.quantiles(latencies, n=100)
    n = len(latencies)
    return {
        "rps": n / elapsed,
        "p50": q[49] * 1000,
        "p95": q[94] * 1000,
        "p99": q[98] * 1000,
        "n": n,
        "errors": sum(c for s, c in statuses.items() if s >= 400),
        "cpu_us": cpu / n * 1e6,
        "pg_us": (pg_after - pg_before) / n * 1e6
        if pg_before is not None and pg_after is not None
        else float("nan"),
        "statuses": " ".join(f"{s}×{c}" for s, c in sorted(statuses.items())),  # type: ignore[dict-item]
    }


def lookup(people: list[tuple[str, str]]) -> Request:
    """Self-lookups cycling over ``people`` (DNI, birth date)."""

    def call(client: RawClient, n: int) -> Awaitable[Reply]:
        dni, birth = people[n % len(people)]
        return client.post("/api/v1/consulta", {"dni": dni, "fecha_nacimiento": birth})

    return call


def forwarded(i: int) -> dict[str, str]:
    """Client ``i``'s own address, as the trusted proxy (nginx) would forward it."""
    return {"X-Forwarded-For": f"10.{i // 250 % 250}.{i % 250}.{7 + i % 200}"}


def site_env(
    db_url: str, redis_url: str, *, fast_path: bool, log_level: str = "INFO"
) -> dict[str, str]:
    return os.environ | {
        "RNU_DATABASE_URL": db_url,
        "RNU_REDIS_URL": redis_url,
        "RNU_SECRET_KEY": "bench-secret",
        "RNU_ENVIRONMENT": "test",
        "RNU_TRUSTED_PROXIES": "127.0.0.1/32",
        "RNU_LOOKUP_PER_CLIENT": "1000000000",
        "RNU_PUBLIC_PER_CLIENT": "1000000000",
        "RNU_DB_POOL_SIZE": "20",
        "RNU_LOOKUP_FAST_PATH": "true" if fast_path else "false",
        # The access log stays on (INFO, one line per request) but goes nowhere: a terminal
        # would add its own cost. The bare app has no log line at all.
        "RNU_LOG_LEVEL": log_level,
        "RNU_LOG_FORMAT": "json",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2_000, help="synthetic country size")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--requests", type=int, default=3_000, help="per scenario")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--compare", action="store_true", help="also measure the normal path")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds per scenario; the median round is shown"
    )
    parser.add_argument("--only", nargs="*", help="scenario names to run (default: all)")
    parser.add_argument(
        "--log-level", default="INFO", help="the site's RNU_LOG_LEVEL (WARNING: no access log)"
    )
    args = parser.parse_args()

    db_url = fresh_database("rnu_bench_api")
    redis_url = os.environ.get("RNU_REDIS_URL") or start_embedded_redis(ROOT / ".rnu" / "bench")
    processes: list[subprocess.Popen[bytes]] = []
    started = time.perf_counter()
    try:
        country = asyncio.run(load_country(db_url, args.people, args.seed))
        built_s = time.perf_counter() - started
        if len(country.lookups) < HOT + 100:
            raise SystemExit(f"only {len(country.lookups)} people to look up: raise --people")
        hot, cold = country.lookups[:HOT], country.lookups[HOT:]
        bare, bare_url = serve("bench.api_speed:bare_app", os.environ.copy())
        processes.append(bare)
        sites: list[tuple[str, subprocess.Popen[bytes], str]] = []
        for fast in (True, False) if args.compare else (True,):
            env = site_env(db_url, redis_url, fast_path=fast, log_level=args.log_level)
            process, url = serve_quiet("web.app:create_app", env)
            processes.append(process)
            sites.append(("" if fast else " (normal path)", process, url))

        async def run() -> list[tuple[str, dict[str, float]]]:
            c, n = args.concurrency, args.requests
            results: list[tuple[str, dict[str, float]]] = []

            def wanted(name: str) -> bool:
                return not args.only or any(o in name for o in args.only)

            async def scenario(name: str, url: str, pid: int, request: Request, **kw: int) -> None:
                if not wanted(name):
                    return
                warm = RawClient(url, headers=forwarded(999))
                for i in range(20):  # pools, code paths and the memo warmed first
                    await request(warm, i)
                await warm.close()
                rounds = [
                    await drive(
                        url,
                        request,
                        concurrency=c,
                        limit=kw.get("limit", n),
                        pid=pid,
                        client_headers=forwarded,
                    )
                    for _ in range(kw.get("rounds", args.rounds))
                ]
                # The round with the median CPU per request: one noisy round does not decide.
                rounds.sort(key=lambda r: r["cpu_us"])
                results.append((name, rounds[len(rounds) // 2]))

            await scenario("bare FastAPI GET", bare_url, bare.pid, lambda cl, i: cl.get("/bare"))
            cold_left = list(cold)
            for suffix, process, url in sites:
                warm = RawClient(url, headers=forwarded(998))
                for i in range(HOT):
                    await lookup(hot)(warm, i)
                await warm.close()
                await scenario(f"lookup hit{suffix}", url, process.pid, lookup(hot))
                share = cold_left[: min(n, len(cold_left) // (len(sites) or 1))]
                cold_left = cold_left[len(share) :]
                # Each uncached DNI once (the 20 warm-up calls use the first ones again: hits
                # that are not counted).
                await scenario(
                    f"lookup miss{suffix}",
                    url,
                    process.pid,
                    lookup(share),
                    limit=len(share),
                    rounds=1,  # each uncached DNI once: a second round would hit the cache
                )
            _, process, url = sites[0]
            roll = country.roll
            await scenario(
                "roll page (masked)",
                url,
                process.pid,
                lambda cl, i: cl.get("/api/v1/padrones", params=roll | {"page": 1 + i % 3}),
            )
            await scenario(
                "statistics", url, process.pid, lambda cl, i: cl.get("/api/v1/estadisticas")
            )
            return results

        results = asyncio.run(run())
        outcomes = fast_path_outcomes(sites[0][2])
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
        drop_database(db_url)
    report(args, results, len(country.lookups), built_s)
    print(f"fast path, whole run (warm-up included): {outcomes}")


def _server_log() -> int | IO[bytes]:
    """Where the site's stderr (its JSON access log) goes: RNU_BENCH_SERVER_LOG or nowhere."""
    path = os.environ.get("RNU_BENCH_SERVER_LOG")
    return open(path, "ab") if path else subprocess.DEVNULL


def fast_path_outcomes(url: str) -> str:
    """How the site's fast path took its lookups (rnu_lookup_fast_path_total, from /metrics)."""
    counts = []
    for line in httpx.get(f"{url}/metrics").text.splitlines():
        if line.startswith("rnu_lookup_fast_path_total{"):
            label = line.split('outcome="', 1)[1].split('"', 1)[0]
            counts.append(f"{label} {float(line.rsplit(' ', 1)[1]):.0f}")
    return ", ".join(counts) or "none"


def serve_quiet(factory: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """``serve`` with the server's stderr (its JSON access log) sent to /dev/null."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", *UVICORN_FLAGS],
        cwd=ROOT, env=env, stderr=_server_log(),
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{url}/healthz").status_code < 500:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError(f"{factory} did not start")


def report(
    args: argparse.Namespace, results: list[tuple[str, dict[str, float]]], people: int, built: float
) -> None:
    by_name = dict(results)
    bare = by_name.get("bare FastAPI GET")
    print(
        f"\n{args.concurrency} keep-alive clients, {args.requests} requests per scenario "
        f"(median of {args.rounds} rounds); "
        f"synthetic country of {args.people} ({people} DNIs to look up, built in {built:.0f} s); "
        f"one uvicorn worker per app on loopback; load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} CPUs\n"
    )
    print(
        f"{'scenario':31} {'CPU µs/req':>10} {'bare/this':>9} {'PG µs/req':>9} {'req/s':>7} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}  statuses"
    )
    for name, r in results:
        ratio = f"{bare['cpu_us'] / r['cpu_us']:9.0%}" if bare else f"{'':9}"
        print(
            f"{name:31} {r['cpu_us']:10.0f} {ratio} {r['pg_us']:9.0f} {r['rps']:7.0f} "
            f"{r['p50']:7.1f} {r['p95']:7.1f} {r['p99']:7.1f}  {r['statuses']}"
        )
    hit = by_name.get("lookup hit")
    if bare and hit:
        verdict = "met" if hit["cpu_us"] <= 2 * bare["cpu_us"] else "NOT met"
        print(
            f"\ncached lookup = {hit['cpu_us'] / bare['cpu_us']:.2f}× the bare route's CPU "
            f"(bare/lookup {bare['cpu_us'] / hit['cpu_us']:.0%}); target ≤ 2× — {verdict}"
        )


if __name__ == "__main__":
    main()
