"""Which sector a file is: a sector name or a program code, in any case (issue 13, item 11)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnu.errors import InvalidInput
from usecases.loads import plan_file


@pytest.mark.parametrize(
    ("given", "sector"),
    [("JUNTOS", "juntos"), ("juntos", "juntos"), ("Pension65", "pension65"), ("PGH", "pgh")],
)
def test_program_codes_and_sectors_in_any_case(tmp_path: Path, given: str, sector: str) -> None:
    path = tmp_path / "roll.txt"
    path.write_text("x\n")
    planned = plan_file(path, given, "2026-10")
    assert (planned.sector, planned.period) == (sector, "2026-10")


def test_an_unknown_sector_names_the_known_ones(tmp_path: Path) -> None:
    path = tmp_path / "roll.txt"
    path.write_text("x\n")
    with pytest.raises(InvalidInput, match="unknown sector 'PRONABEC'; known: beca18"):
        plan_file(path, "PRONABEC", "2026-10")


@pytest.mark.parametrize(
    ("sector", "given", "stored"),
    [("juntos", "2026-10", "2026-10"), ("juntos", "202610", "2026-10"), ("beca18", "2026", "2026")],
)
def test_a_period_is_stored_in_its_one_form(
    tmp_path: Path, sector: str, given: str, stored: str
) -> None:
    path = tmp_path / "roll.txt"
    path.write_text("x\n")
    assert plan_file(path, sector, given).period == stored


@pytest.mark.parametrize(
    ("sector", "given", "expected"),
    [
        ("juntos", "2026-13", "a month YYYY-MM"),  # was stored as the batch's period
        ("juntos", "2026", "a month YYYY-MM"),
        ("sis", "octubre", "a month YYYY-MM"),
        ("beca18", "2026-10", "a year YYYY"),
    ],
)
def test_a_period_that_is_no_period_of_the_roll_is_refused(
    tmp_path: Path, sector: str, given: str, expected: str
) -> None:
    path = tmp_path / "roll.txt"
    path.write_text("x\n")
    with pytest.raises(InvalidInput, match=expected):
        plan_file(path, sector, given)
