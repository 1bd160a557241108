"""What PostgreSQL plans for the bulk paths' statements, and which plans are quadratic.

The project's rule is that nothing on a bulk path may be quadratic, and that set-based SQL is
checked with EXPLAIN at >= 100k rows. A statement's cost is only as linear as its plan: the
same SQL that hash-joins 1M rows in a second nested-loops over them for hours when the
planner believes a table it scans once per outer row is tiny (a table filled in the same
transaction has no statistics). `Explaining` records the plan of every statement a piece of
code runs on a real connection, and `rescans` finds where a plan repeats a sequential scan
once per row of another input; tests assert no statement does so over a table of more than a
few rows, benches print the plans as evidence.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg

Plan = dict[str, Any]

_EXPLAINABLE = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")


@dataclass(frozen=True)
class Rescan:
    """A table a plan reads in full once per row of another input."""

    relation: str
    where: str  # "Nested Loop (Anti)", "SubPlan 1", ...
    planned_rows: int


@dataclass(frozen=True)
class PlannedStatement:
    """One statement as it ran: its text, its plan, the tables it rescans, its wall time.

    `rows` holds, for each table the plan rescans, how many rows it really had when the
    statement was planned: a rescan of a table that is truly empty costs nothing, one of a
    table the planner wrongly took for empty is the quadratic case.
    """

    sql: str
    plan: Plan | None
    seconds: float
    rescans: tuple[Rescan, ...] = ()
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def head(self) -> str:
        """The statement on one line, shortened (for reports)."""
        return " ".join(self.sql.split())[:100]

    def quadratic(self, *, tolerated_rows: int = 1000) -> list[str]:
        """The rescans of tables holding more than `tolerated_rows` rows, described."""
        return [
            f"{r.where} rescans {r.relation} ({self.rows.get(r.relation, '?')} rows, "
            f"planned {r.planned_rows})"
            for r in self.rescans
            if self.rows.get(r.relation, tolerated_rows + 1) > tolerated_rows
        ]


@dataclass
class Wrapping:
    """An asyncpg connection whose statements go through `_run` (subclasses look at them).

    Everything else (transactions, COPY) goes to the wrapped connection unchanged.
    """

    conn: asyncpg.Connection

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)

    async def _run(self, method: str, sql: str, *args: Any, **kwargs: Any) -> Any:
        return await getattr(self.conn, method)(sql, *args, **kwargs)

    async def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        # several statements in one string cannot be explained (nor take parameters)
        if not args and ";" in sql.strip().rstrip(";"):
            return await self.conn.execute(sql, **kwargs)
        return await self._run("execute", sql, *args, **kwargs)

    async def executemany(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        return await self.conn.executemany(sql, *args, **kwargs)

    async def fetch(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        return await self._run("fetch", sql, *args, **kwargs)

    async def fetchval(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        return await self._run("fetchval", sql, *args, **kwargs)

    async def fetchrow(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        return await self._run("fetchrow", sql, *args, **kwargs)


@dataclass
class Explaining(Wrapping):
    """An asyncpg connection that records each data statement's plan before running it.

    Only EXPLAIN without ANALYZE (the planner's estimates, no execution) is asked for: that
    is what decides the plan's shape, and it stays cheap even where the plan would be
    quadratic. VERBOSE, because only the output lists say which SubPlans are hashed.
    """

    statements: list[PlannedStatement] = field(default_factory=list)

    async def _plan(self, sql: str, args: tuple[Any, ...]) -> Plan | None:
        words = sql.split(None, 1)
        if not words or words[0].upper() not in _EXPLAINABLE:
            return None
        raw = await self.conn.fetchval(f"EXPLAIN (VERBOSE, FORMAT JSON) {sql}", *args)
        plan: Plan = json.loads(raw)[0]["Plan"]
        return plan

    async def _run(self, method: str, sql: str, *args: Any, **kwargs: Any) -> Any:
        plan = await self._plan(sql, args)
        found = tuple(rescans(plan)) if plan is not None else ()
        rows = {}
        for relation in {r.relation for r in found}:
            rows[relation] = await self.conn.fetchval(f"SELECT count(*) FROM {relation}")
        started = time.perf_counter()
        out = await getattr(self.conn, method)(sql, *args, **kwargs)
        seconds = time.perf_counter() - started
        self.statements.append(PlannedStatement(sql, plan, seconds, found, rows))
        return out

    def quadratic(self, *, tolerated_rows: int = 1000) -> list[str]:
        """Every recorded statement's quadratic rescans, prefixed by the statement."""
        return [
            f"{s.head}: {q}"
            for s in self.statements
            for q in s.quadratic(tolerated_rows=tolerated_rows)
        ]


def _nodes(plan: Plan) -> Iterator[Plan]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def _scans(plan: Plan) -> Iterator[Plan]:
    """Sequential scans under `plan` that run again when `plan` reruns.

    Not those of its subplans: an InitPlan or an uncorrelated hashed SubPlan is run once and
    kept (PostgreSQL rebuilds a subplan only when a parameter it reads changes), and a
    correlated SubPlan is judged on its own by `rescans`.
    """
    if plan["Node Type"] == "Seq Scan":
        yield plan
    for child in plan.get("Plans", ()):
        if child.get("Parent Relationship") not in ("SubPlan", "InitPlan"):
            yield from _scans(child)


def rescans(plan: Plan) -> Iterator[Rescan]:
    """The places where `plan` reads a table in full once per row of another input.

    Two shapes: a Nested Loop whose inner side holds a sequential scan (Materialize only
    saves the disk reads, not the comparisons), and a correlated SubPlan with one. Index
    probes per row are fine (n log n); so are hash and merge joins, and hashed SubPlans.
    """
    for node in _nodes(plan):
        # the node's own expressions say whether a SubPlan under it is hashed (runs once)
        own = json.dumps({k: v for k, v in node.items() if k != "Plans"})
        for child in node.get("Plans", ()):
            relationship = child.get("Parent Relationship")
            name = child.get("Subplan Name", "")
            if node["Node Type"] == "Nested Loop" and relationship == "Inner":
                where = f"Nested Loop ({node.get('Join Type', '?')})"
            elif relationship == "SubPlan" and f"hashed {name}" not in own:
                where = name
            else:
                continue
            for scan in _scans(child):
                relation = f'"{scan.get("Schema", "public")}"."{scan.get("Relation Name", "?")}"'
                yield Rescan(relation, where, int(scan.get("Plan Rows", 0)))


def outline(plan: Plan, depth: int = 0) -> list[str]:
    """The plan as indented lines: node, relation, planned rows (EXPLAIN evidence)."""
    name = plan["Node Type"]
    if plan.get("Join Type") and plan["Join Type"] != "Inner":
        name += f" ({plan['Join Type']})"
    if "Relation Name" in plan:
        name += f" on {plan['Relation Name']}"
    if "Index Name" in plan:
        name += f" using {plan['Index Name']}"
    lines = [f"{'  ' * depth}{name}  rows={plan.get('Plan Rows')}"]
    for child in plan.get("Plans", ()):
        lines.extend(outline(child, depth + 1))
    return lines
