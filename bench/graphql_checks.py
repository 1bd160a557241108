"""CPU cost of the GraphQL checks RNU runs before the key, against graphql-core's own parse and
validate, in the same run (api/graphql/checks.py check_operation; schema.execute no longer
validates a second time).

    .venv/bin/python -m bench.graphql_checks [--calls 300]

Prints CPU milliseconds per call (time.process_time), no database needed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script too

from graphql import parse, validate

from api.graphql.checks import check_operation
from api.graphql.schema import schema

BATCH = """query($d: [String!]!) { persons(documents: $d) { totalCount
  edges { node { document person { dni programs } } } } }"""
SMALL = "{ __typename a: __typename b: __typename }"


def cpu_ms(calls: int, work: Callable[[], object]) -> float:
    started = time.process_time()
    for _ in range(calls):
        work()
    return (time.process_time() - started) / calls * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    calls = parser.parse_args().calls
    variables = {"d": [f"3{i:07d}" for i in range(1_000)]}
    baseline = cpu_ms(calls, lambda: validate(schema._schema, parse(BATCH)))
    checks = cpu_ms(calls, lambda: check_operation(BATCH, None, variables, introspection=True))
    execute = cpu_ms(calls, lambda: asyncio.run(schema.execute(SMALL)))
    print(f"graphql-core parse+validate, 1,000-document batch query: {baseline:.2f} ms CPU")
    print(f"RNU check_operation (+ variables, depth, cost):          {checks:.2f} ms CPU")
    print(f"  ratio to the baseline:                                 {checks / baseline:.2f}")
    print(f"schema.execute of a 3-field query (no second validation): {execute:.2f} ms CPU")


if __name__ == "__main__":
    main()
