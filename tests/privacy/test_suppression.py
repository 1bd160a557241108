"""Small cells are hidden, and no hidden cell can be computed back from what is published."""

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privacy.suppression import SuppressedTable, _bridges, k_for, suppress


def published_lines(table: SuppressedTable) -> list[list[tuple[tuple[int, int], int | None]]]:
    """Every published equation as (extended position, published value) members.

    Rebuilt from the published output alone, independently of the module's graph: a row with
    a published total, a column with a published total, and the line of totals.
    """
    n_rows, n_cols = len(table.cells), len(table.col_labels)
    lines = []
    if table.row_totals is not None:
        for i in range(n_rows):
            lines.append(
                [((i, j), table.cells[i][j]) for j in range(n_cols)]
                + [((i, n_cols), table.row_totals[i])]
            )
    if table.col_totals is not None:
        for j in range(n_cols):
            lines.append(
                [((i, j), table.cells[i][j]) for i in range(n_rows)]
                + [((n_rows, j), table.col_totals[j])]
            )
    if table.row_totals is not None and table.col_totals is not None:
        grand = ((n_rows, n_cols), table.grand_total)
        lines.append([((i, n_cols), v) for i, v in enumerate(table.row_totals)] + [grand])
        lines.append([((n_rows, j), v) for j, v in enumerate(table.col_totals)] + [grand])
    return lines


def determined_cells(table: SuppressedTable) -> set[tuple[int, int]]:
    """Hidden positions an attacker can compute exactly by linear algebra on published lines."""
    lines = published_lines(table)
    hidden = sorted({pos for line in lines for pos, value in line if value is None})
    if not hidden:
        return set()
    column = {pos: n for n, pos in enumerate(hidden)}
    rows = []
    for line in lines:
        coefficients = np.zeros(len(hidden))
        for pos, value in line[:-1]:
            if value is None:
                coefficients[column[pos]] += 1
        total_pos, total = line[-1]
        if total is None:
            coefficients[column[total_pos]] -= 1
        rows.append(coefficients)
    matrix = np.array(rows) if rows else np.zeros((0, len(hidden)))
    rank = np.linalg.matrix_rank(matrix) if rows else 0
    found = set()
    for pos, n in column.items():
        unit = np.zeros(len(hidden))
        unit[n] = 1
        if np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank:
            found.add(pos)
    return found


def true_values(grid: Sequence[Sequence[int]]) -> dict[tuple[int, int], int]:
    n_rows, n_cols = len(grid), len(grid[0])
    values = {(i, j): grid[i][j] for i in range(n_rows) for j in range(n_cols)}
    for i in range(n_rows):
        values[(i, n_cols)] = sum(grid[i])
    for j in range(n_cols):
        values[(n_rows, j)] = sum(row[j] for row in grid)
    values[(n_rows, n_cols)] = sum(map(sum, grid))
    return values


def all_published(table: SuppressedTable) -> dict[tuple[int, int], int | None]:
    n_rows, n_cols = len(table.cells), len(table.col_labels)
    out: dict[tuple[int, int], int | None] = {
        (i, j): table.cells[i][j] for i in range(n_rows) for j in range(n_cols)
    }
    if table.row_totals is not None:
        out.update({(i, n_cols): v for i, v in enumerate(table.row_totals)})
    if table.col_totals is not None:
        out.update({(n_rows, j): v for j, v in enumerate(table.col_totals)})
    if table.row_totals is not None and table.col_totals is not None:
        out[(n_rows, n_cols)] = table.grand_total
    return out


class TestKFor:
    @pytest.mark.parametrize(
        ("program", "minors", "expected"),
        [
            ("JUNTOS", False, 5),
            ("PENSION65", False, 5),
            ("JUNTOS", True, 10),
            ("CONTIGO", False, 10),
            ("contigo", False, 10),
            ("CUNA_MAS", False, 10),
            ("Qali Warma", False, 10),
        ],
    )
    def test_k(self, program: str, minors: bool, expected: int) -> None:
        assert k_for(program, minors) == expected


class TestSuppressExamples:
    def test_nothing_small_nothing_hidden(self) -> None:
        table = suppress([[10, 20], [30, 0]])
        assert table.cells == ((10, 20), (30, 0))
        assert (table.row_totals, table.col_totals, table.grand_total) == ((30, 30), (40, 20), 60)
        assert table.suppressed == frozenset()

    def test_one_small_cell_is_protected_by_a_cycle(self) -> None:
        table = suppress([[3, 10, 20], [15, 8, 30], [12, 40, 7]])
        assert table.cells == ((None, None, 20), (None, None, 30), (12, 40, 7))
        assert (table.row_totals, table.col_totals, table.grand_total) == (
            (33, 53, 59),
            (30, 58, 57),
            145,
        )
        assert table.primary == {(0, 0)}
        assert table.complementary == {(0, 1), (1, 0), (1, 1)}

    def test_bridge_between_two_protected_blocks_is_closed(self) -> None:
        # Every line already has >= 2 hidden cells, yet (1, 2) would follow from the totals;
        # hiding (0, 3) puts it on a cycle.
        grid = [[2, 2, 30, 20], [2, 2, 2, 20], [20, 20, 2, 2], [20, 25, 2, 2]]
        table = suppress(grid)
        assert table.complementary == {(0, 3)}
        assert table.cells == (
            (None, None, 30, None),
            (None, None, None, 20),
            (20, 20, None, None),
            (20, 25, None, None),
        )
        assert determined_cells(table) == set()

    def test_zeros_are_shown_and_never_used_as_complements_when_avoidable(self) -> None:
        table = suppress([[2, 0, 9], [0, 6, 7]])
        assert table.cells[0][1] == 0
        assert table.cells[1][0] == 0
        assert determined_cells(table) == set()

    def test_small_totals_are_hidden_too(self) -> None:
        table = suppress([[1, 1], [20, 30]])
        assert table.row_totals is not None
        assert table.row_totals[0] is None  # 2 < 5
        assert table.cells[0] == (None, None)
        assert determined_cells(table) == set()

    def test_one_dimensional_mapping(self) -> None:
        table = suppress({("150101",): 3, ("150102",): 10, ("150103",): 0, ("150104",): 22})
        assert table.row_labels == ((),)
        assert table.col_labels == ("150101", "150102", "150103", "150104")
        assert table.cells == ((None, None, 0, 22),)
        assert (table.row_totals, table.col_totals, table.grand_total) == ((35,), None, 35)
        assert table.as_mapping() == {
            ("150101",): None,
            ("150102",): None,
            ("150103",): 0,
            ("150104",): 22,
        }

    def test_two_dimensional_mapping_fills_missing_with_zero(self) -> None:
        table = suppress({("150101", "JUNTOS"): 12, ("150102", "PENSION65"): 40})
        assert table.row_labels == (("150101",), ("150102",))
        assert table.col_labels == ("JUNTOS", "PENSION65")
        assert table.cells == ((12, 0), (0, 40))

    def test_three_part_keys_use_the_last_part_as_column(self) -> None:
        table = suppress({("15", "1501", "JUNTOS"): 7, ("15", "1502", "JUNTOS"): 9})
        assert table.row_labels == (("15", "1501"), ("15", "1502"))
        assert table.as_mapping() == {("15", "1501", "JUNTOS"): 7, ("15", "1502", "JUNTOS"): 9}

    def test_without_totals_only_primary(self) -> None:
        table = suppress([[3, 10], [15, 8]], publish_totals=False)
        assert table.cells == ((None, 10), (15, 8))
        assert (table.row_totals, table.col_totals, table.grand_total) == (None, None, None)

    def test_k_ten(self) -> None:
        table = suppress([[9, 30], [40, 50]], k=10)
        assert table.primary == {(0, 0)}
        assert determined_cells(table) == set()

    @pytest.mark.parametrize(
        ("table", "message"),
        [
            ({("a",): 1, ("a", "b"): 2}, "same length"),
            ([[1, 2], [3]], "same length"),
            ([[-1, 2]], "negative"),
        ],
    )
    def test_bad_input(self, table: object, message: str) -> None:
        with pytest.raises(ValueError, match=message):
            suppress(table)  # type: ignore[arg-type]

    @pytest.mark.parametrize("empty", [[], {}])
    def test_empty_table(self, empty: list[list[int]] | dict[tuple[str, ...], int]) -> None:
        table = suppress(empty)
        assert (table.cells, table.grand_total, table.suppressed) == ((), 0, frozenset())

    @pytest.mark.parametrize(("count", "shown"), [(3, None), (7, 7), (0, 0)])
    def test_single_cell(self, count: int, shown: int | None) -> None:
        table = suppress([[count]])
        assert (table.cells, table.grand_total) == (((shown,),), shown)

    def test_bad_k(self) -> None:
        with pytest.raises(ValueError, match="at least 1"):
            suppress([[1]], k=0)


class TestBridges:
    def test_two_cycles_joined_by_one_edge(self) -> None:
        # The case "every line has 0 or >= 2 hidden cells" misses: each node has degree >= 2,
        # yet the joining edge (index 8) is computable.
        r = [("r", n) for n in range(4)]
        c = [("c", n) for n in range(4)]
        edges = [
            (r[0], c[0]), (r[0], c[1]), (r[1], c[0]), (r[1], c[1]),
            (r[2], c[2]), (r[2], c[3]), (r[3], c[2]), (r[3], c[3]),
            (r[1], c[2]),
        ]  # fmt: skip
        assert _bridges(edges) == [8]

    def test_parallel_edges_are_a_cycle(self) -> None:
        g, r = ("g", 0), ("r", 0)
        assert _bridges([(r, g), (r, g)]) == []
        assert _bridges([(r, g)]) == [0]


COUNTS = st.one_of(
    st.integers(0, 12), st.integers(0, 12), st.sampled_from([0, 1, 2]), st.integers(13, 200)
)


@st.composite
def grids(draw: st.DrawFn) -> list[list[int]]:
    n_rows = draw(st.integers(1, 6))
    n_cols = draw(st.integers(1, 6))
    return [[draw(COUNTS) for _ in range(n_cols)] for _ in range(n_rows)]


class TestOracle:
    """The linear-algebra check used by the properties does catch leaks."""

    def test_lone_hidden_cell_is_computable(self) -> None:
        leaky = replace(suppress([[3, 10], [15, 8]], publish_totals=False), row_totals=(13, 23))
        assert determined_cells(leaky) == {(0, 0)}

    def test_two_blocks_joined_by_one_hidden_cell_leak_it(self) -> None:
        big = [[20] * 4 for _ in range(4)]
        leaky_cells = [list(row) for row in big]
        for i, j in [(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (1, 2)]:
            leaky_cells[i][j] = None  # type: ignore[call-overload]
        leaky = replace(suppress(big), cells=tuple(tuple(row) for row in leaky_cells))
        assert determined_cells(leaky) == {(1, 2)}


class TestSuppressProperties:
    @settings(max_examples=200, deadline=None)
    @given(grid=grids(), k=st.integers(2, 10))
    def test_no_published_small_count(self, grid: list[list[int]], k: int) -> None:
        table = suppress(grid, k)
        values = true_values(grid)
        for pos, shown in all_published(table).items():
            assert shown is None or not 0 < shown < k
            assert shown is None or shown == values[pos]  # what is shown is the truth
        assert {p for p, v in all_published(table).items() if 0 < values[p] < k} <= (
            table.suppressed
        )

    @settings(max_examples=200, deadline=None)
    @given(grid=grids(), k=st.integers(2, 10))
    def test_every_line_has_zero_or_two_hidden(self, grid: list[list[int]], k: int) -> None:
        table = suppress(grid, k)
        for line in published_lines(table):
            assert sum(value is None for _, value in line) != 1

    @settings(max_examples=200, deadline=None)
    @given(grid=grids(), k=st.integers(2, 10))
    def test_no_hidden_cell_is_computable(self, grid: list[list[int]], k: int) -> None:
        assert determined_cells(suppress(grid, k)) == set()

    @settings(max_examples=60, deadline=None)
    @given(
        grid=st.integers(6, 10).flatmap(
            lambda n: st.lists(st.lists(COUNTS, min_size=n, max_size=n), min_size=4, max_size=9)
        ),
        k=st.sampled_from([5, 10]),
    )
    def test_no_hidden_cell_is_computable_in_larger_tables(
        self, grid: list[list[int]], k: int
    ) -> None:
        assert determined_cells(suppress(grid, k)) == set()

    @settings(max_examples=100, deadline=None)
    @given(
        counts=st.dictionaries(st.sampled_from([f"{n:06d}" for n in range(12)]), COUNTS, min_size=1)
    )
    def test_one_dimensional(self, counts: dict[str, int]) -> None:
        table = suppress({(key,): value for key, value in counts.items()}, 5)
        assert all(v is None or not 0 < v < 5 for v in table.cells[0])
        assert determined_cells(table) == set()

    @settings(max_examples=50, deadline=None)
    @given(grid=grids())
    def test_deterministic(self, grid: list[list[int]]) -> None:
        assert suppress(grid) == suppress([list(row) for row in grid])
