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
