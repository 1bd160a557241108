"""One pattern per column: no published table, page or total gives a reserved count back.

The property test builds small countries (departments → provinces → districts × programmes),
publishes every table the way RNU does — ``privacy.family.suppress_column`` per programme,
``usecases.public.published`` for the statistics at every level and parent, the pattern's
``shown`` for the district page, ``usecases.public.unlisted_shown`` and the listed count for
each roll page — and lets ``tests.privacy.attack`` solve the union of all of them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from privacy import linear
from privacy.family import ColumnPattern, parent_of, suppress_column
from privacy.suppression import SENSITIVE_K, k_for
from tests.privacy import attack
from usecases.families import is_count_only
from usecases.public import published, unlisted_shown, users_k

PROGRAMMES = ("JUNTOS", "SIS", "QALIWARMA", "PENSION65", "CONTIGO")


@dataclass(frozen=True)
class Country:
    districts: tuple[str, ...]
    programmes: tuple[str, ...]
    listed: dict[tuple[str, str], int]
    unlisted: dict[tuple[str, str], int]

    def truth(self) -> dict[attack.Var, int]:
        out: dict[attack.Var, int] = {}
        for (d, p), n in self.listed.items():
            out[(d, p, "listed")] = n
        for (d, p), n in self.unlisted.items():
            out[(d, p, "unlisted")] = n
        return out

    def areas(self, digits: int, parent: str | None) -> list[tuple[str, str]]:
        codes = sorted({d[:digits] for d in self.districts if d.startswith(parent or "")})
        return [(c, f"Área {c}") for c in codes]


@st.composite
def countries(draw: st.DrawFn) -> Country:
    districts = []
    for dep in range(1, draw(st.integers(1, 3)) + 1):
        for prov in range(1, draw(st.integers(1, 3)) + 1):
            for dist in range(1, draw(st.integers(1, 3)) + 1):
                districts.append(f"{dep:02d}{prov:02d}{dist:02d}")
    programmes = tuple(
        draw(st.lists(st.sampled_from(PROGRAMMES), min_size=1, max_size=3, unique=True))
    )
    small = st.integers(0, 14) | st.integers(0, 3)
    listed, unlisted = {}, {}
    for d, p in itertools.product(districts, programmes):
        unlisted[(d, p)] = draw(small)
        listed[(d, p)] = 0 if is_count_only(p) else draw(small | st.integers(10, 40))
    return Country(tuple(districts), programmes, listed, unlisted)


def patterns_of(country: Country) -> dict[str, ColumnPattern]:
    """What ``usecases.families.compute_user_patterns`` does once the counts are read."""
    return {
        p: suppress_column(
            {d: country.listed[(d, p)] + country.unlisted[(d, p)] for d in country.districts},
            country.districts,
            k_for(p, touches_minors=False),
            unlisted={d: country.unlisted[(d, p)] for d in country.districts},
        )
        for p in country.programmes
    }


def everything_published(country: Country, patterns: dict[str, ColumnPattern]) -> list:
    """Every number the public can read about these columns, as the attacker's facts."""
    facts = []
    departments = sorted({d[:2] for d in country.districts})
    provinces = sorted({d[:4] for d in country.districts})
    k = users_k(patterns)
    views: list[tuple[str, int, str | None]] = [
        ("departamento", 2, None),
        ("provincia", 4, None),
        ("distrito", 6, None),
    ]
    views += [("provincia", 4, dep) for dep in departments]
    views += [("distrito", 6, dep) for dep in departments]
    views += [("distrito", 6, prov) for prov in provinces]
    for level, digits, parent in views:
        table = published(patterns, country.areas(digits, parent), parent, {}, k)
        facts += attack.table_facts(
            table.model_dump(), parent, country.districts, f"estadísticas {level}/{parent}"
        )
    # One programme at a time (``programa=``) is the same column, so the same cells.
    for p in country.programmes:
        table = published({p: patterns[p]}, country.areas(2, None), None, {}, k)
        facts += attack.table_facts(table.model_dump(), None, country.districts, f"solo {p}")
    for d, p in itertools.product(country.districts, country.programmes):
        # A programme nobody in the district is on is not on its page, and its roll is
        # "not found": both say 0, whatever the pattern.
        present = country.listed[(d, p)] + country.unlisted[(d, p)] > 0
        facts.append(
            attack.Fact(
                f"página del distrito {d}/{p}",
                attack.cell(d, p, country.districts),
                patterns[p].shown(d) if present else 0,
            )
        )
        body = {
            "total_listados": country.listed[(d, p)],
            "no_listados": unlisted_shown(patterns[p], d, country.unlisted[(d, p)])
            if present
            else 0,
        }
        facts += attack.roll_facts(d, p, body)
    return facts


class TestPublishedFamily:
    @settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(countries())
    def test_no_reserved_number_is_recovered_from_all_the_tables(self, country: Country) -> None:
        patterns = patterns_of(country)
        facts = everything_published(country, patterns)
        truth = country.truth()
        for fact in facts:  # what is published is true
            if fact.value is not None:
                assert fact.value == attack.truth_of(fact, truth), fact.where
        leaks = attack.recovered(facts)
        assert leaks == [], [(f.where, attack.truth_of(f, truth)) for f in leaks]
        for p in country.programmes:  # small counts are never shown, at any level
            assert patterns[p].hidden <= set(patterns[p].values)  # zeros are never reserved
            for code, value in patterns[p].values.items():
                shown = patterns[p].shown(code)
                assert shown is None or shown == value
                assert shown is None or not 0 < shown < patterns[p].k, (p, code)
        for d, p in itertools.product(country.districts, country.programmes):
            n = unlisted_shown(patterns[p], d, country.unlisted[(d, p)])
            assert n is None or not 0 < n < SENSITIVE_K

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(countries())
    def test_no_published_total_minus_published_parts_is_a_reserved_cell(
        self, country: Country
    ) -> None:
        """The simplest attack, spelled out: one line with exactly one reserved number."""
        patterns = patterns_of(country)
        for p, pattern in patterns.items():
            areas = sorted({d[:n] for d in country.districts for n in (0, 2, 4, 6)}, key=len)
            for area in areas:
                parts = [a for a in areas if a and parent_of(a) == area]
                if not parts:
                    continue
                line = [pattern.shown(area), *(pattern.shown(a) for a in parts)]
                assert sum(v is None for v in line) != 1, (p, area, line)
            for d in country.districts:  # district count minus the listed entries
                page = pattern.shown(d)
                if page is not None:
                    assert unlisted_shown(pattern, d, country.unlisted[(d, p)]) is not None


class TestSuppressColumn:
    DISTRICTS = ("080101", "080102", "080201", "150101", "150102")

    def test_the_issues_child_cell_and_its_complement_are_reserved_everywhere(self) -> None:
        # 3 children in a k = 10 cell; the 12 next door would give it back from the
        # province's total, so it is reserved too — in every table, including the district page.
        pattern = suppress_column(
            {"080101": 3, "080102": 12, "080201": 40, "150101": 30}, self.DISTRICTS, 10
        )
        assert pattern.primary == {"080101"}
        assert pattern.hidden == {"080101", "080102"}
        assert pattern.shown("0801") == 15
        assert pattern.shown("080102") is None

    def test_few_unlisted_hide_the_district_even_when_its_count_is_large(self) -> None:
        pattern = suppress_column(
            {"080101": 15, "080102": 20, "080201": 40},
            self.DISTRICTS,
            5,
            unlisted={"080101": 3, "080102": 0},
        )
        assert "080101" in pattern.primary
        assert pattern.shown("080101") is None
        assert unlisted_shown(pattern, "080101", 3) is None
        assert pattern.shown("080102") is None  # its complement within the province
        assert unlisted_shown(pattern, "080102", 0) is None  # 20 listed + 0 would give it

    def test_a_small_department_is_paired_at_the_national_level(self) -> None:
        pattern = suppress_column({"080101": 2, "150101": 8}, self.DISTRICTS, 5)
        assert {"08", "15", "080101", "150101"} <= pattern.hidden
        assert pattern.shown("") == 10

    def test_nothing_small_nothing_hidden_and_zeros_shown(self) -> None:
        pattern = suppress_column({"080101": 15, "150101": 30}, self.DISTRICTS, 5)
        assert pattern.hidden == frozenset()
        assert pattern.shown("080102") == 0
        assert pattern.shown("08") == 15

    def test_round_trip_through_the_cache_format(self) -> None:
        pattern = suppress_column({"080101": 3, "080102": 12}, self.DISTRICTS, 10)
        assert ColumnPattern.from_json(pattern.to_json()) == pattern

    def test_bad_input(self) -> None:
        with pytest.raises(ValueError, match="negative"):
            suppress_column({"080101": -1}, self.DISTRICTS, 5)
        with pytest.raises(ValueError, match="k must"):
            suppress_column({}, self.DISTRICTS, 0)

    def test_a_country_sized_family_is_quick(self) -> None:
        import time

        from rnu.stats.service import every_district

        districts = every_district()
        counts = {d: (i * 7919) % 23 for i, d in enumerate(districts)}  # many under k = 10
        start = time.perf_counter()
        pattern = suppress_column(counts, districts, 10)
        elapsed = time.perf_counter() - start
        assert len(districts) > 1800  # the reference: 1,891 districts
        assert len(pattern.hidden) > len(pattern.primary) > 500
        codes = {d[:n] for d in districts for n in (0, 2, 4, 6)}
        children: dict[str, list[str]] = {}
        for code in codes:
            up = parent_of(code)
            if up is not None:
                children.setdefault(up, []).append(code)
        equations = [{t: 1, **dict.fromkeys(parts, -1)} for t, parts in children.items()]
        assert linear.determined(equations, pattern.hidden) == set()
        assert elapsed < 10, elapsed


class TestRankTest:
    def test_a_lone_hidden_part_is_determined(self) -> None:
        equations = [{"t": 1, "a": -1, "b": -1}]
        assert linear.determined(equations, {"a"}) == {"a"}
        assert linear.determined(equations, {"a", "b"}) == set()
        assert linear.determined(equations, {"t", "a", "b"}) == set()

    def test_three_known_pairwise_sums_give_every_part(self) -> None:
        # a + b, a + c and b + c known: each is half of two sums minus the third.
        equations = [{"a": 1, "b": 1}, {"a": 1, "c": 1}, {"b": 1, "c": 1}]
        assert linear.determined(equations, {"a", "b", "c"}) == {"a", "b", "c"}
