"""Small-cell suppression for published counts, with complementary suppression.

A table of counts is published with its row totals, column totals and grand total. Counts in
1..k-1 are hidden (primary suppression); zeros are shown. Hiding them is not enough: a hidden
cell alone in its row equals the row total minus the other cells. So more cells are hidden
(complementary suppression) until no hidden cell can be computed from what is published.

Why the check is a graph question: every published line (a row or column with its total) is a
linear equation over its hidden cells. Take one node per equation and one edge per hidden cell
between the two equations it appears in (a virtual node stands for "no equation", e.g. the rows
of a one-row table). After flipping the signs of the margin cells, the system is the incidence
matrix of that graph, whose null space is spanned by its cycles. A hidden cell is therefore
determined exactly when its edge lies on no cycle, i.e. is a *bridge*.

Two passes. First the classic rule, cheap on national tables: while a line has exactly one
hidden cell, hide its smallest non-zero other cell (preferring one that mends two such lines).
Then, until no bridge is left, hide for each bridge a cell that closes a cycle through it.
The result has 0 or at least 2 hidden cells in every line, and also meets the stronger
guarantee the classic rule alone misses (two protected blocks joined by one hidden cell).

Not covered: bounds from non-negativity (counts are >= 0, so linear programming can narrow a
hidden cell to an interval, e.g. "at least 2"); the guarantee is that none is known exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from privacy.programs import is_child_program, is_disability_program

DEFAULT_K = 5
SENSITIVE_K = 10

Pos = tuple[int, int]
# Equation nodes: ("r", i) / ("c", j); the virtual node ("g", 0) stands for "no equation".
Node = tuple[str, int]
_NO_EQUATION: Node = ("g", 0)


def k_for(program_code: str, touches_minors: bool) -> int:
    """10 for anything about disability (Contigo) or minors (incl. child programs), else 5."""
    if touches_minors or is_disability_program(program_code) or is_child_program(program_code):
        return SENSITIVE_K
    return DEFAULT_K


@dataclass(frozen=True)
class SuppressedTable:
    """A count table ready to publish: a suppressed value is None.

    Do not label every None as "<k": complementary cells are k or more. Only ``cells``,
    ``row_totals``, ``col_totals`` and ``grand_total`` are for publication; the position sets
    (in the grid extended by one totals row and column) are for audit and tests, since telling
    primary from complementary cells would narrow the hidden values.
    """

    k: int
    row_labels: tuple[tuple[str, ...], ...]
    col_labels: tuple[str, ...]
    cells: tuple[tuple[int | None, ...], ...]
    row_totals: tuple[int | None, ...] | None
    col_totals: tuple[int | None, ...] | None
    grand_total: int | None
    totals_published: bool
    primary: frozenset[Pos]
    complementary: frozenset[Pos]

    @property
    def suppressed(self) -> frozenset[Pos]:
        """Every hidden position, primary or complementary."""
        return self.primary | self.complementary

    def as_mapping(self) -> dict[tuple[str, ...], int | None]:
        """The interior cells keyed as the input was (row label parts + column label)."""
        return {
            (*row, col): self.cells[i][j]
            for i, row in enumerate(self.row_labels)
            for j, col in enumerate(self.col_labels)
        }


def _to_grid(
    table: Mapping[tuple[str, ...], int] | Sequence[Sequence[int]],
) -> tuple[list[tuple[str, ...]], list[str], list[list[int]]]:
    if isinstance(table, Mapping):
        widths = {len(key) for key in table}
        if len(widths) > 1 or 0 in widths:
            raise ValueError("all keys must be non-empty tuples of the same length")
        rows: dict[tuple[str, ...], int] = {}
        cols: dict[str, int] = {}
        for key in table:
            rows.setdefault(tuple(key[:-1]), len(rows))
            cols.setdefault(key[-1], len(cols))
        grid = [[0] * len(cols) for _ in rows]
        for key, value in table.items():
            grid[rows[tuple(key[:-1])]][cols[key[-1]]] = value
        return list(rows), list(cols), grid
    grid = [list(row) for row in table]
    if len({len(row) for row in grid}) > 1:
        raise ValueError("every row of a grid must have the same length")
    width = len(grid[0]) if grid else 0
    return [(str(i),) for i in range(len(grid))], [str(j) for j in range(width)], grid


class Lines(Protocol):
    """What the complementary pass needs of a problem: positions, their values and equations.

    ``nodes(pos)`` names the two equations a position appears in (``NO_EQUATION`` where there
    is none), so every hidden position is an edge of the equations' graph. The two-way table
    here and the area hierarchy of ``privacy.family`` both have this shape.
    """

    value: dict[Pos, int]
    lines: dict[Node, list[Pos]]

    def nodes(self, pos: Pos) -> tuple[Node, Node]: ...

    def is_margin(self, pos: Pos) -> bool: ...

    def preference(self, pos: Pos) -> tuple[bool, int, bool, Pos]: ...


NO_EQUATION = _NO_EQUATION


class _Problem:
    """The extended grid, which positions are published, and the equations among them."""

    def __init__(self, grid: list[list[int]], publish_totals: bool) -> None:
        self.n_rows = n_rows = len(grid)
        self.n_cols = n_cols = len(grid[0]) if grid else 0
        self.value: dict[Pos, int] = {}
        for i, row in enumerate(grid):
            for j, count in enumerate(row):
                self.value[(i, j)] = count
        # A margin is only published where it is not a copy of the cells (a one-column table's
        # row totals are its cells).
        row_totals = publish_totals and n_cols > 1
        col_totals = publish_totals and n_rows > 1
        if row_totals:
            for i, row in enumerate(grid):
                self.value[(i, n_cols)] = sum(row)
        if col_totals:
            for j in range(n_cols):
                self.value[(n_rows, j)] = sum(row[j] for row in grid)
        if row_totals and col_totals:
            self.value[(n_rows, n_cols)] = sum(map(sum, grid))
        self.lines: dict[Node, list[Pos]] = {}
        for pos in self.value:
            for node in self.nodes(pos):
                if node != _NO_EQUATION:
                    self.lines.setdefault(node, []).append(pos)

    def nodes(self, pos: Pos) -> tuple[Node, Node]:
        """The two equations a position appears in (``_NO_EQUATION`` where there is none)."""
        i, j = pos
        row: Node = ("r", i) if (i, self.n_cols) in self.value else _NO_EQUATION
        col: Node = ("c", j) if (self.n_rows, j) in self.value else _NO_EQUATION
        return row, col

    def is_margin(self, pos: Pos) -> bool:
        return pos[0] == self.n_rows or pos[1] == self.n_cols

    def preference(self, pos: Pos) -> tuple[bool, int, bool, Pos]:
        """Hide the smallest non-zero interior cell first: the least information lost."""
        value = self.value[pos]
        return (value == 0, value, self.is_margin(pos), pos)


Adjacency = dict[Node, list[tuple[Node, int]]]


def _adjacency(edges: Sequence[tuple[Node, Node]]) -> Adjacency:
    adjacency: Adjacency = {}
    for index, (u, v) in enumerate(edges):
        if u == v:
            continue  # a self-loop is a cycle on its own
        adjacency.setdefault(u, []).append((v, index))
        adjacency.setdefault(v, []).append((u, index))
    return adjacency


def _bridges(edges: Sequence[tuple[Node, Node]]) -> list[int]:
    """Indices of the bridges of a multigraph (iterative Tarjan, so big tables do not recurse)."""
    adjacency = _adjacency(edges)
    order: dict[Node, int] = {}
    low: dict[Node, int] = {}
    found: list[int] = []
    for root in adjacency:
        if root in order:
            continue
        order[root] = low[root] = len(order)
        stack: list[tuple[Node, int, int]] = [(root, -1, 0)]
        while stack:
            node, via, cursor = stack[-1]
            if cursor < len(adjacency[node]):
                stack[-1] = (node, via, cursor + 1)
                nxt, index = adjacency[node][cursor]
                if index == via:
                    continue
                if nxt in order:
                    low[node] = min(low[node], order[nxt])
                else:
                    order[nxt] = low[nxt] = len(order)
                    stack.append((nxt, index, 0))
            else:
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[node])
                    if low[node] > order[parent]:
                        found.append(via)
    return sorted(found)


def _reach(start: Node, adjacency: Adjacency, skip: int) -> set[Node]:
    """The nodes reachable from ``start`` without crossing edge ``skip``."""
    seen = {start}
    todo = [start]
    while todo:
        for nxt, index in adjacency.get(todo.pop(), []):
            if index != skip and nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _joins(ends: tuple[Node, Node], side_a: set[Node], side_b: set[Node]) -> bool:
    first, second = ends
    return (first in side_a and second in side_b) or (first in side_b and second in side_a)


def _protect(
    problem: Lines, hidden: set[Pos], edge: tuple[Node, Node], index: int, adjacency: Adjacency
) -> set[Node]:
    """Hide one more cell so bridge ``index`` gets closer to lying on a cycle.

    Returns the nodes whose neighbourhood changed: the bridge's component and the new cell's ends.
    """
    u, v = edge
    side_u = _reach(u, adjacency, index)
    side_v = _reach(v, adjacency, index)
    candidates = [
        pos
        for node in (side_u | side_v) - {_NO_EQUATION}
        for pos in problem.lines[node]
        if pos not in hidden and _joins(problem.nodes(pos), side_u, side_v)
    ]
    if not candidates:
        # Nothing closes a cycle yet (an end of the bridge is a line with a single hidden
        # cell): hide another cell of that line, as the classic rule does, and go on.
        lonely = u if u != _NO_EQUATION and len(side_u) == 1 else v
        candidates = [pos for pos in problem.lines.get(lonely, []) if pos not in hidden]
    if not candidates:  # unreachable for the grids built here; fail loudly, never leak
        raise RuntimeError("no cell left to protect a suppressed count")
    chosen = min(candidates, key=problem.preference)
    hidden.add(chosen)
    return side_u | side_v | set(problem.nodes(chosen))


def _pair_lonely_lines(problem: Lines, hidden: set[Pos]) -> None:
    """The classic rule, cheaply: a line with one hidden cell gets a second one.

    Prefer a cell whose other line is lonely too (one cell mends two lines), then the smallest
    non-zero. Lines are revisited until none is lonely; bridges are left for the graph pass.
    """
    count = {node: sum(pos in hidden for pos in line) for node, line in problem.lines.items()}
    todo = sorted(node for node, n in count.items() if n == 1)
    while todo:
        node = todo.pop()
        if count[node] != 1:
            continue

        def preference(pos: Pos, node: Node = node) -> tuple[bool, bool, int, bool, Pos]:
            other = [n for n in problem.nodes(pos) if n not in (node, _NO_EQUATION)]
            pairs = bool(other) and count[other[0]] == 1
            value = problem.value[pos]
            return (value == 0, not pairs, value, problem.is_margin(pos), pos)

        candidates = [pos for pos in problem.lines[node] if pos not in hidden]
        if not candidates:
            continue
        chosen = min(candidates, key=preference)
        hidden.add(chosen)
        for touched in set(problem.nodes(chosen)) - {_NO_EQUATION}:
            count[touched] += 1
            if count[touched] == 1:
                todo.append(touched)


def complement(problem: Lines, primary: set[Pos]) -> set[Pos]:
    """The complementary cells: with them hidden, no hidden position is a bridge (determined)."""
    hidden = set(primary)
    _pair_lonely_lines(problem, hidden)
    while True:
        edges = [problem.nodes(pos) for pos in sorted(hidden)]
        bridges = _bridges(edges)
        if not bridges:
            return hidden - primary
        adjacency = _adjacency(edges)
        # One repair per connected component per round: a repair only changes its own
        # component, so bridges elsewhere are still bridges and can be repaired in the same pass.
        touched: set[Node] = set()
        for index in bridges:
            if edges[index][0] in touched or edges[index][1] in touched:
                continue
            touched |= _protect(problem, hidden, edges[index], index, adjacency)


def suppress(
    table: Mapping[tuple[str, ...], int] | Sequence[Sequence[int]],
    k: int = DEFAULT_K,
    *,
    publish_totals: bool = True,
) -> SuppressedTable:
    """Hide counts in 1..k-1 and whatever else would let them be recomputed from the totals.

    ``table`` maps label tuples to counts (the last part is the column, the rest the row; a
    missing combination counts 0) or is a rectangular grid of counts. With
    ``publish_totals=False`` no margins are published and only primary suppression applies.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    row_labels, col_labels, grid = _to_grid(table)
    if any(count < 0 for row in grid for count in row):
        raise ValueError("counts cannot be negative")
    problem = _Problem(grid, publish_totals)
    primary = {pos for pos, count in problem.value.items() if 0 < count < k}
    complementary = complement(problem, primary)
    hidden = primary | complementary

    def shown(pos: Pos) -> int | None:
        return None if pos in hidden else problem.value[pos]

    n_rows, n_cols = problem.n_rows, problem.n_cols
    has_row_totals = (0, n_cols) in problem.value
    has_col_totals = (n_rows, 0) in problem.value
    row_totals = tuple(shown((i, n_cols)) for i in range(n_rows)) if has_row_totals else None
    col_totals = tuple(shown((n_rows, j)) for j in range(n_cols)) if has_col_totals else None
    if (n_rows, n_cols) in problem.value:
        grand_total = shown((n_rows, n_cols))
    elif row_totals is not None:  # one row: its total is the grand total
        grand_total = row_totals[0]
    elif col_totals is not None:  # one column: likewise
        grand_total = col_totals[0]
    elif publish_totals and n_rows == 1 and n_cols == 1:
        grand_total = shown((0, 0))
    elif publish_totals and not problem.value:
        grand_total = 0  # an empty table counts nobody
    else:
        grand_total = None
    return SuppressedTable(
        k=k,
        row_labels=tuple(row_labels),
        col_labels=tuple(col_labels),
        cells=tuple(tuple(shown((i, j)) for j in range(n_cols)) for i in range(n_rows)),
        row_totals=row_totals,
        col_totals=col_totals,
        grand_total=grand_total,
        totals_published=publish_totals,
        primary=frozenset(primary),
        complementary=frozenset(complementary),
    )
