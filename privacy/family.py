"""One suppression pattern per published column, shared by every table that shows it.

A *column* is one count over the area hierarchy: users of one programme at one period (or open
flags of one kind), per district, with its province, department and national sums. Every
number RNU publishes about that column — the statistics at each level and parent, their
column totals, the district page, a roll page's ``no_listados``, open data, GraphQL — is read
from the one pattern computed here, so no two tables can disagree about which cells are hidden
(the differencing of issue 11.5: a cell complementary in one table, shown in another).

The equations an attacker holds about a column are the hierarchy's: each province is the sum of
its districts, each department of its provinces, the nation of its departments. Every area is
in at most two of them (as a part of its parent's, as the total of its own), so the system is
the incidence matrix of a graph and ``privacy.suppression.complement`` applies: hide cells until
no hidden cell is a bridge. The result is then checked with the exact rank test of
``privacy.linear`` (and more is hidden should any cell still be determined).

Why columns and not one district × programme table with its row totals: the same column is
published in several period sets (each programme at its latest period; every programme at a
chosen ``periodo``; a roll page at any of its periods), so a two-way pattern per set would hide
different cells of the same column in different sets. Publishing an area's total over
programmes only when all of its cells are published keeps the columns independent: such a
total is a sum of published numbers and tells nothing new.

Primary suppression: a count in 1..k-1 at any level, and a district whose not-listed users
(minors, protected programmes) number 1..9, since the roll page lists the others by name and
the district count minus the listed entries is exactly that number.

Not covered: intervals. Counts are non-negative and a roll lists its adults, so a hidden cell is
known to be at least the listed entries and at most its published total; the guarantee is that
no hidden cell is known exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from privacy import linear
from privacy.suppression import NO_EQUATION, SENSITIVE_K, Node, Pos, complement

NATION = ""


def parent_of(code: str) -> str | None:
    """The area one level up (district 6 → province 4 → department 2 → the nation "")."""
    if len(code) == 6:
        return code[:4]
    if len(code) == 4:
        return code[:2]
    if len(code) == 2:
        return NATION
    return None


@dataclass(frozen=True)
class ColumnPattern:
    """A column's counts at every area of the hierarchy and which of them are hidden.

    ``values`` holds every non-zero area (areas not in it count 0); only ``shown`` is for
    publication. ``primary`` is for audit and tests: telling primary from complementary cells
    would narrow the hidden values.
    """

    k: int
    values: Mapping[str, int]
    hidden: frozenset[str]
    primary: frozenset[str]

    def shown(self, code: str) -> int | None:
        """The published count of an area: None when reserved."""
        return None if code in self.hidden else self.values.get(code, 0)

    def to_json(self) -> dict[str, object]:
        return {
            "k": self.k,
            "values": dict(self.values),
            "hidden": sorted(self.hidden),
            "primary": sorted(self.primary),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> ColumnPattern:
        values = data["values"]
        hidden = data["hidden"]
        primary = data["primary"]
        k = data["k"]
        if not (
            isinstance(values, dict)
            and isinstance(hidden, list)
            and isinstance(primary, list)
            and isinstance(k, int)
        ):
            raise ValueError("not a stored column pattern")
        return cls(
            k=k,
            values={str(a): int(v) for a, v in values.items()},
            hidden=frozenset(map(str, hidden)),
            primary=frozenset(map(str, primary)),
        )


class _Hierarchy:
    """The column's areas as positions and its sums as equations (``suppression.Lines``)."""

    def __init__(self, districts: Iterable[str], counts: Mapping[str, int]) -> None:
        codes: set[str] = set()
        for district in districts:
            code: str | None = district
            while code is not None and code not in codes:
                codes.add(code)
                code = parent_of(code)
        self.codes = sorted(codes, key=lambda c: (len(c), c))
        self.index = {code: i for i, code in enumerate(self.codes)}
        self.children: dict[str, list[str]] = {}
        for code in self.codes:
            up = parent_of(code)
            if up is not None:
                self.children.setdefault(up, []).append(code)
        self.value: dict[Pos, int] = {}
        for code in sorted(self.codes, key=len, reverse=True):
            below = self.children.get(code)
            self.value[self.pos(code)] = (
                sum(self.value[self.pos(c)] for c in below) if below else counts.get(code, 0)
            )
        self.lines: dict[Node, list[Pos]] = {
            self.equation(code): [self.pos(code), *(self.pos(c) for c in below)]
            for code, below in self.children.items()
        }

    def pos(self, code: str) -> Pos:
        return (0, self.index[code])

    def code(self, pos: Pos) -> str:
        return self.codes[pos[1]]

    def equation(self, code: str) -> Node:
        return ("a", self.index[code])

    def nodes(self, pos: Pos) -> tuple[Node, Node]:
        code = self.code(pos)
        up = parent_of(code)
        as_part = self.equation(up) if up is not None and up in self.index else NO_EQUATION
        as_total = self.equation(code) if code in self.children else NO_EQUATION
        return as_part, as_total

    def is_margin(self, pos: Pos) -> bool:
        return self.code(pos) in self.children

    def preference(self, pos: Pos) -> tuple[bool, int, bool, Pos]:
        value = self.value[pos]
        return (value == 0, value, self.is_margin(pos), pos)

    def equations(self) -> list[dict[Pos, int]]:
        """Each sum as ``total - parts = 0``, for the rank test."""
        return [
            {self.pos(code): 1, **{self.pos(c): -1 for c in below}}
            for code, below in self.children.items()
        ]


def _protect_all(problem: _Hierarchy, primary: set[Pos]) -> set[Pos]:
    """Primary cells plus complements, none of them a zero, none of them determined.

    Zeros are never reserved: the district page does not list a programme nobody in the
    district is on, and a roll with no one on it answers "not found", so a zero is public
    anyway. The rank test therefore treats zeros as known. A hidden cell always has a non-zero
    partner in each of its equations (a total is at least its part; a positive total has a
    positive part), and hiding every non-zero count leaves each on a cycle (up to the nation,
    down to a district), so the loop ends.
    """
    equations = problem.equations()
    hidden = primary | complement(problem, primary)
    for _ in range(len(problem.value) + 1):
        hidden = {pos for pos in hidden if problem.value[pos] > 0}
        exposed = linear.determined(equations, hidden)
        if not exposed:
            return hidden
        # Not expected after the graph pass (it is exact for a hierarchy) unless a zero was
        # taken as a complement; never publish a determined cell.
        grown = False
        for pos in sorted(exposed):
            for node in problem.nodes(pos):
                others = [
                    p
                    for p in problem.lines.get(node, [])
                    if p not in hidden and problem.value[p] > 0
                ]
                if others:
                    hidden.add(min(others, key=problem.preference))
                    grown = True
        if not grown:  # the last resort, always safe: every non-zero count reserved
            hidden |= {p for p, v in problem.value.items() if v > 0}
        hidden |= complement(problem, hidden)
    raise RuntimeError("could not protect a suppressed count")  # pragma: no cover


def suppress_column(
    counts: Mapping[str, int],
    districts: Iterable[str],
    k: int,
    *,
    unlisted: Mapping[str, int] | None = None,
    unlisted_k: int = SENSITIVE_K,
) -> ColumnPattern:
    """The column's pattern: counts per district (``counts``; missing ones are 0) summed up
    the hierarchy of ``districts`` (6-digit codes), with every hidden count undetermined.

    ``unlisted`` gives, per district, how many of its users a roll page counts without listing
    (its ``no_listados``); a district with 1..``unlisted_k``-1 of them is hidden as well.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    if any(v < 0 for v in counts.values()):
        raise ValueError("counts cannot be negative")
    problem = _Hierarchy(districts, counts)
    primary = {pos for pos, v in problem.value.items() if 0 < v < k}
    for code, n in (unlisted or {}).items():
        if 0 < n < unlisted_k and code in problem.index:
            primary.add(problem.pos(code))
    hidden = _protect_all(problem, primary)
    return ColumnPattern(
        k=k,
        values={problem.code(p): v for p, v in problem.value.items() if v},
        hidden=frozenset(problem.code(p) for p in hidden),
        primary=frozenset(problem.code(p) for p in primary),
    )
