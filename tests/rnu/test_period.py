from datetime import date

import pytest

from rnu.errors import InvalidInput, InvalidPeriod
from rnu.period import Period, first_day, label


class TestParse:
    @pytest.mark.parametrize(
        ("text", "year", "month"),
        [("2026-03", 2026, 3), ("2026", 2026, None), (" 2026-12 ", 2026, 12)],
    )
    def test_monthly_and_yearly(self, text: str, year: int, month: int | None) -> None:
        period = Period.parse(text)
        assert (period.year, period.month) == (year, month)

    @pytest.mark.parametrize(
        "text", ["2026-13", "2026-00", "202603", "26-03", "", "2026-3", "abcd"]
    )
    def test_refuses_what_is_not_a_period(self, text: str) -> None:
        with pytest.raises(InvalidPeriod):
            Period.parse(text)

    def test_is_invalid_input(self) -> None:
        with pytest.raises(InvalidInput):
            Period.parse("marzo")

    def test_compact_only_when_asked(self) -> None:
        assert Period.parse("202603", compact=True) == Period(2026, 3)
        assert Period.parse("2026", compact=True) == Period(2026)

    @pytest.mark.parametrize("text", ["2026-03", "2026"])
    def test_round_trips(self, text: str) -> None:
        assert str(Period.parse(text)) == text


class TestDays:
    def test_monthly(self) -> None:
        period = Period.parse("2024-02")
        assert (period.first_day, period.last_day) == (date(2024, 2, 1), date(2024, 2, 29))

    def test_yearly_is_judged_on_january_first(self) -> None:
        period = Period.parse("2026")
        assert (period.first_day, period.last_day) == (date(2026, 1, 1), date(2026, 12, 31))
        assert period.first_month == Period(2026, 1)
        assert first_day("2026") == date(2026, 1, 1)


class TestLabel:
    def test_spanish(self) -> None:
        assert Period.parse("2026-09").label == "setiembre de 2026"
        assert Period.parse("2026").label == "2026"

    def test_text_that_is_not_a_period_is_kept(self) -> None:
        assert label("n/d") == "n/d"
        assert label(None) == ""


def test_order_is_by_first_day() -> None:
    assert sorted(Period.parse(p) for p in ["2026-02", "2025", "2025-12"]) == [
        Period(2025),
        Period(2025, 12),
        Period(2026, 2),
    ]


class TestRollPeriod:
    """What an operator types for a roll's period (`rnu load --period`, `rnu check`)."""

    def test_months_and_years_in_their_stored_form(self) -> None:
        from rnu.period import roll_period

        assert roll_period("202610", yearly=False) == "2026-10"
        assert roll_period(" 2026-10 ", yearly=False) == "2026-10"
        assert roll_period("2026", yearly=True) == "2026"

    @pytest.mark.parametrize(
        ("text", "yearly"), [("2026-13", False), ("2026", False), ("2026-10", True), ("", False)]
    )
    def test_no_period_of_the_roll_is_refused(self, text: str, yearly: bool) -> None:
        from rnu.errors import InvalidPeriod
        from rnu.period import roll_period

        with pytest.raises(InvalidPeriod, match="this roll's period is"):
            roll_period(text, yearly=yearly)
