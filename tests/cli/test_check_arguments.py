"""`rnu check` and `rnu explain` refuse a program or period that is none, in one line."""

from __future__ import annotations

import pytest

from cli.integrity import program_period
from rnu.errors import InvalidInput


def test_program_codes_in_any_case_and_compact_periods() -> None:
    assert program_period("pension65", "202610") == ("PENSION65", "2026-10")
    assert program_period(" BECA18 ", "2026") == ("BECA18", "2026")


@pytest.mark.parametrize(
    ("program", "period", "expected"),
    [
        ("NOPE", "2026-10", "unknown program 'NOPE'; known: BECA18"),  # was a KeyError
        ("JUNTOS", "2026-99", "a month YYYY-MM"),  # was judged as if it were a period
        ("BECA18", "2026-10", "a year YYYY"),
    ],
)
def test_refused_with_what_is_expected(program: str, period: str, expected: str) -> None:
    with pytest.raises(InvalidInput, match=expected):
        program_period(program, period)
