"""GraphQL speed for agencies, each figure against its REST equivalent in the same run.

    .venv/bin/python -m bench.graphql_speed [--people 20000] [--seconds 8] [--concurrency 20]

Seeds a fresh database (``bench.api_speed.seed``: people with DNIs 3xxxxxxx in Pensión 65 and
SIS), serves the whole site with one uvicorn worker on loopback, and drives four scenarios:

- single: ``person(document:)`` in GraphQL vs DCI ``/registry/sync/search`` (idtype-value);
- batch: ``persons(documents: [1,000])`` in GraphQL vs ``/api/v1/verificaciones`` (a CSV of
  the same 1,000 documents).

Prints requests/s, p50/p95/p99 and GraphQL/REST ratios. The target is a 1,000-document batch
answered in ≤ 1 s (p95). The load generator shares the machine with the server, so figures are
relative; compare ratios between runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from collections.abc import Awaitable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script too

from bench.api_speed import Request, drive, seed, serve
from bench.harness import ROOT, drop_database, fresh_database
from bench.rawhttp import RawClient, Reply, multipart
from rnu.db import make_engine, make_sessionmaker, session_scope
from rnu.embedded import start_embedded_redis

BATCH = 1_000
SINGLE = """query($d: String!) { person(document: $d) {
  dni nombres apellidoPaterno programs
  enrollments { edges { node { programCode period } } } } }"""
MANY = """query($d: [String!]!) { persons(documents: $d) { totalCount
  edges { node { document person { dni programs } } } } }"""


async def make_key(db_url: str) -> str:
    from rnu.agency import service

    engine = make_engine(db_url, pool_size=1, role="bench")
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            issued = await service.add_client(
                session,
                agency="BENCH",
                scopes=["person:read"],
                rate_per_minute=1_000_000_000,
                daily_quota=1_000_000_000,
                records_per_minute=1_000_000_000,
            )
    finally:
        await engine.dispose()
    return issued.key


async def warm(url: str, request: Request, calls: int = 3) -> None:
    """A few calls first, so connection pools and caches are not part of the figures."""
    client = RawClient(url)
    for n in range(calls):
        await request(client, n)
    await client.close()


def dni(n: int, people: int) -> str:
    return f"{30000000 + 1 + n % people:08d}"


Scenario = tuple[Request, Request]


def scenarios(people: int, headers: dict[str, str]) -> dict[str, Scenario]:
    def gql_single(client: RawClient, n: int) -> Awaitable[Reply]:
        body = {"query": SINGLE, "variables": {"d": dni(n, people)}}
        return client.post("/graphql", body, headers=headers)

    def rest_single(client: RawClient, n: int) -> Awaitable[Reply]:
        body = {
            "header": {
                "version": "1.0.0",
                "message_id": f"m{n}",
                "message_ts": "2026-11-27T10:00:00Z",
                "action": "search",
                "sender_id": "bench",
                "total_count": 1,
            },
            "message": {
                "transaction_id": f"t{n}",
                "search_request": [
                    {
                        "reference_id": "r",
                        "timestamp": "2026-11-27T10:00:00Z",
                        "search_criteria": {
                            "query_type": "idtype-value",
                            "query": {"type": "DNI", "value": dni(n, people)},
                        },
                    }
                ],
            },
        }
        return client.post("/registry/sync/search", body, headers=headers)

    def batch_docs(n: int) -> list[str]:
        return [dni(n * BATCH + i, people) for i in range(BATCH)]

    def gql_batch(client: RawClient, n: int) -> Awaitable[Reply]:
        body = {"query": MANY, "variables": {"d": batch_docs(n)}}
        return client.post("/graphql", body, headers=headers)

    def rest_batch(client: RawClient, n: int) -> Awaitable[Reply]:
        csv = ("dni\n" + "\n".join(batch_docs(n)) + "\n").encode()
        content, content_type = multipart("archivo", "docs.csv", csv, "text/csv")
        return client.post(
            "/api/v1/verificaciones", content=content, content_type=content_type, headers=headers
        )

    return {
        "single": (gql_single, rest_single),
        "batch": (gql_batch, rest_batch),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--batch-concurrency", type=int, default=2)
    args = parser.parse_args()

    db_url = fresh_database("rnu_bench_graphql")
    redis_url = os.environ.get("RNU_REDIS_URL") or start_embedded_redis(ROOT / ".rnu" / "bench")
    process: subprocess.Popen[bytes] | None = None
    try:
        asyncio.run(seed(db_url, args.people))
        key = asyncio.run(make_key(db_url))
        headers = {"Authorization": f"Bearer {key}", "X-Purpose": "verificacion"}
        env = os.environ | {
            "RNU_DATABASE_URL": db_url,
            "RNU_REDIS_URL": redis_url,
            "RNU_SECRET_KEY": "bench-secret",
            "RNU_ENVIRONMENT": "test",
            "RNU_DB_POOL_SIZE": "20",
        }
        process, url = serve("web.app:create_app", env)
        print(f"people={args.people:,} seconds={args.seconds} (figures under shared CPU)")
        print(f"{'scenario':<22}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}")
        for name, (gql, rest) in scenarios(args.people, headers).items():
            concurrency = args.concurrency if name == "single" else args.batch_concurrency
            results = {}
            for label, request in (("graphql", gql), ("rest", rest)):
                asyncio.run(warm(url, request))
                r = asyncio.run(drive(url, request, seconds=args.seconds, concurrency=concurrency))
                results[label] = r
                print(
                    f"{name + ' ' + label:<22}{r['rps']:>9.1f}{r['p50']:>9.1f}{r['p95']:>9.1f}"
                    f"{r['p99']:>9.1f}{int(r['errors']):>8}"
                )
            g, r = results["graphql"], results["rest"]
            print(
                f"  {name}: graphql/rest req/s = {g['rps'] / r['rps']:.2f}, "
                f"p95 ratio = {g['p95'] / r['p95']:.2f}"
            )
            if name == "batch":
                verdict = "met" if g["p95"] <= 1000 else "NOT met"
                print(
                    f"  target: {BATCH:,}-document batch p95 ≤ 1 s — {verdict} ({g['p95']:.0f} ms)"
                )
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=10)
        drop_database(db_url)


if __name__ == "__main__":
    main()
