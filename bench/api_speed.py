"""Public API speed against a bare FastAPI endpoint served the same way, in the same run.

    .venv/bin/python -m bench.api_speed [--people 20000] [--seconds 8] [--concurrency 50]

Seeds a fresh database (people in a few Lima districts, Pensión 65 and SIS rolls), starts two
uvicorn processes on loopback (the RNU site, and a bare app returning a constant JSON), then
drives each scenario with a bounded async load generator (``--concurrency`` clients, each
sending its next request when the last one answered, over a bare keep-alive HTTP/1.1 client
so the generator's own CPU stays small: see bench/rawhttp.py) and prints requests/s,
p50/p95/p99 and the ratio of requests/s to the bare endpoint. The load generator shares the
machine with the servers, so the figures are relative; the ratio is the number to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import httpx
from fastapi import FastAPI

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script too

from bench.harness import ROOT, drop_database, fresh_database
from bench.rawhttp import RawClient, Reply
from rnu.embedded import plain_url, start_embedded_redis

DISTRICTS = ["150101", "150103", "150105", "150108", "150110"]


def bare_app() -> FastAPI:
    """The yardstick: one JSON route, no middleware, no database."""
    app = FastAPI()

    @app.get("/bare")
    async def bare() -> dict[str, bool]:
        return {"ok": True}

    return app


async def seed(db_url: str, people: int) -> None:
    """People with DNIs 3xxxxxxx born 1950-03-09, one household each, in PENSION65 and SIS."""
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(factory: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """One uvicorn process, one worker, on loopback; returns it and its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--no-access-log"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/docs" if "web" in factory else f"{url}/bare").status_code < 500:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError(f"{factory} did not start")


Request = Callable[[RawClient, int], Awaitable[Reply]]


async def drive(
    base: str, request: Request, *, seconds: float, concurrency: int, limit: int | None = None
) -> dict[str, float]:
    """Bounded closed-loop load: ``concurrency`` clients for ``seconds`` (or ``limit`` calls)."""
    latencies: list[float] = []
    errors = 0
    counter = itertools.count()
    deadline = time.perf_counter() + seconds
    clients = [RawClient(base) for _ in range(concurrency)]

    async def worker(client: RawClient) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            n = next(counter)
            if limit is not None and n >= limit:
                return
            start = time.perf_counter()
            response = await request(client, n)
            latencies.append(time.perf_counter() - start)
            errors += response.status_code >= 400

    started = time.perf_counter()
    await asyncio.gather(*(worker(client) for client in clients))
    elapsed = time.perf_counter() - started
    for client in clients:
        await client.close()
    q = statistics.quantiles(latencies, n=100)
    return {
        "rps": len(latencies) / elapsed,
        "p50": q[49] * 1000,
        "p95": q[94] * 1000,
        "p99": q[98] * 1000,
        "n": len(latencies),
        "errors": errors,
    }


def lookup(offset: int, pool: int) -> Request:
    def call(client: RawClient, n: int) -> Awaitable[Reply]:
        dni = f"{30000000 + 1 + offset + n % pool:08d}"
        return client.post("/api/v1/consulta", {"dni": dni, "fecha_nacimiento": "1950-03-09"})

    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()

    db_url = fresh_database("rnu_bench_api")
    redis_url = os.environ.get("RNU_REDIS_URL") or start_embedded_redis(ROOT / ".rnu" / "bench")
    processes: list[subprocess.Popen[bytes]] = []
    try:
        asyncio.run(seed(db_url, args.people))
        env = os.environ | {
            "RNU_DATABASE_URL": db_url,
            "RNU_REDIS_URL": redis_url,
            "RNU_SECRET_KEY": "bench-secret",
            "RNU_ENVIRONMENT": "test",
            "RNU_LOOKUP_PER_CLIENT": "1000000000",
            "RNU_LOOKUP_FAILURES_PER_DNI": "1000000000",
            "RNU_PUBLIC_PER_CLIENT": "1000000000",
            "RNU_DB_POOL_SIZE": "20",
            "RNU_LOG_LEVEL": "WARNING",  # no per-request access line: the bare app has none
        }
        bare, bare_url = serve("bench.api_speed:bare_app", env)
        site, site_url = serve("web.app:create_app", env)
        processes += [bare, site]
        hot = 50  # the cached scenario cycles over 50 people, warmed first
        warm = lookup(0, hot)

        async def run() -> list[tuple[str, dict[str, float]]]:
            c, s = args.concurrency, args.seconds
            client = RawClient(site_url)
            for n in range(hot):
                await warm(client, n)
            await client.close()
            roll_params = {"programa": "PENSION65", "ubigeo": DISTRICTS[0]}
            results = [
                ("bare FastAPI JSON", await drive(
                    bare_url, lambda cl, n: cl.get("/bare"), seconds=s, concurrency=c)),
                ("cached self-lookup", await drive(
                    site_url, warm, seconds=s, concurrency=c)),
                ("uncached self-lookup", await drive(
                    site_url, lookup(hot, args.people - hot), seconds=s, concurrency=c,
                    limit=args.people - hot)),
                ("roll page (masked)", await drive(
                    site_url, lambda cl, n: cl.get(
                        "/api/v1/padrones", params=roll_params | {"page": 1 + n % 20}),
                    seconds=s, concurrency=c)),
                ("statistics", await drive(
                    site_url, lambda cl, n: cl.get("/api/v1/estadisticas"),
                    seconds=s, concurrency=c)),
            ]  # fmt: skip
            return results

        results = asyncio.run(run())
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
        drop_database(db_url)
    base_rps = results[0][1]["rps"]
    print(
        f"\n{args.concurrency} concurrent clients, {args.seconds:.0f} s per scenario, "
        f"{args.people} people; one uvicorn worker per app on loopback "
        f"(load generator on the same machine: figures are relative); "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n"
    )
    print(f"{'scenario':24} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'vs bare':>8} {'errors':>7}")  # fmt: skip
    for name, r in results:
        print(
            f"{name:24} {r['rps']:8.0f} {r['p50']:8.1f} {r['p95']:8.1f} {r['p99']:8.1f} "
            f"{r['rps'] / base_rps:8.0%} {int(r['errors']):7d}"
        )
    print("\nTargets: cached lookup >= 60% of bare, p99 <= 50 ms.")


if __name__ == "__main__":
    main()
