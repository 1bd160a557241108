"""Dates: every sector format, Excel serials, error codes, periods and ages."""

from collections.abc import Sequence
from datetime import date, datetime

import pytest

from rnu.normalize import DateError, age_in_months, age_on, parse_date, parse_period
from rnu.normalize.dates import DATE_ERROR_CODES

TODAY = date(2025, 6, 15)


class TestParseDate:
    @pytest.mark.parametrize(
        ("value", "formats", "expected"),
        [
            # iso
            ("1970-01-31", ("iso",), date(1970, 1, 31)),
            (" 1970-1-5 ", ("iso",), date(1970, 1, 5)),
            ("1970-01-31T00:00:00", ("iso",), date(1970, 1, 31)),
            ("1970-01-31 13:45:10.123+05:00", ("iso",), date(1970, 1, 31)),
            ("1970/01/31", ("iso",), date(1970, 1, 31)),
            # dmy (Juntos)
            ("31/01/1970", ("dmy",), date(1970, 1, 31)),
            ("31-01-1970", ("dmy",), date(1970, 1, 31)),
            ("5/6/1970", ("dmy",), date(1970, 6, 5)),
            ("05/06/1970 00:00:00", ("dmy",), date(1970, 6, 5)),
            # mdy (Contigo)
            ("01/31/1970", ("mdy",), date(1970, 1, 31)),
            ("06/05/1970", ("mdy",), date(1970, 6, 5)),
            # ymd_compact (Qali Warma)
            ("19700131", ("ymd_compact",), date(1970, 1, 31)),
            (19700131, ("ymd_compact",), date(1970, 1, 31)),
            ("31011970", ("dmy_compact",), date(1970, 1, 31)),
            ("31011970", ("ymd_compact", "dmy_compact"), date(1970, 1, 31)),
            ("19700131", ("ymd_compact", "dmy_compact"), date(1970, 1, 31)),
            # excel (Pensión 65), 1900 system with the leap-year bug
            (25569, ("excel",), date(1970, 1, 1)),
            (25569.0, ("excel",), date(1970, 1, 1)),
            (25569.99, ("excel",), date(1970, 1, 1)),
            ("25569", ("excel",), date(1970, 1, 1)),
            ("25569.5", ("excel",), date(1970, 1, 1)),
            (1, ("excel",), date(1900, 1, 1)),
            (59, ("excel",), date(1900, 2, 28)),
            (61, ("excel",), date(1900, 3, 1)),
            (36526, ("excel",), date(2000, 1, 1)),
            (45658, ("excel",), date(2025, 1, 1)),
            # several formats in order
            ("31/01/1970", ("iso", "dmy"), date(1970, 1, 31)),
            ("1970-01-31", ("dmy", "iso"), date(1970, 1, 31)),
            # datetime objects pass through whatever the formats
            (datetime(1970, 1, 31, 8, 30), ("dmy",), date(1970, 1, 31)),
            (date(1970, 1, 31), ("iso",), date(1970, 1, 31)),
        ],
    )
    def test_formats(
        self, value: str | int | float | date, formats: Sequence[str], expected: date
    ) -> None:
        assert parse_date(value, formats, today=TODAY) == expected

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("1970-01-31", date(1970, 1, 31)),
            ("19700131", date(1970, 1, 31)),
            ("31011970", date(1970, 1, 31)),
            ("01021970", date(1970, 2, 1)),
            (20102010, date(2010, 10, 20)),
            ("25569", date(1970, 1, 1)),
            (25569, date(1970, 1, 1)),
            (25569.0, date(1970, 1, 1)),
            ("13/01/1970", date(1970, 1, 13)),  # day > 12: only day-first fits
            ("01/13/1970", date(1970, 1, 13)),  # second > 12: month-first
            ("05/06/1970", date(1970, 6, 5)),  # ambiguous: day-first
            ("12-11-1970", date(1970, 11, 12)),
        ],
    )
    def test_auto(self, value: str | int | float, expected: date) -> None:
        assert parse_date(value, ("auto",), today=TODAY) == expected

    @pytest.mark.parametrize(
        ("value", "formats", "code"),
        [
            (None, ("iso",), "missing_date"),
            ("", ("iso",), "missing_date"),
            ("   ", ("dmy",), "missing_date"),
            ("0000-00-00", ("iso",), "missing_date"),
            ("00/00/0000", ("dmy",), "missing_date"),
            (float("nan"), ("excel",), "missing_date"),
            ("31/02/1970", ("dmy",), "impossible_date"),
            ("1970-02-29", ("iso",), "impossible_date"),
            ("2000-13-01", ("iso",), "impossible_date"),
            ("02/31/1970", ("mdy",), "impossible_date"),
            ("19700230", ("ymd_compact",), "impossible_date"),
            ("31011970", ("ymd_compact",), "impossible_date"),
            ("31021970", ("auto",), "impossible_date"),
            (60, ("excel",), "impossible_date"),  # Excel's fake 1900-02-29
            ("60", ("excel",), "impossible_date"),
            (0, ("excel",), "impossible_date"),
            ("31/02/1970", ("auto",), "impossible_date"),
            ("13/13/1970", ("auto",), "impossible_date"),
            ("1970-01-31", ("dmy",), "unparseable_date"),
            ("31/01/1970", ("iso",), "unparseable_date"),
            ("31/01/70", ("dmy",), "unparseable_date"),
            ("ayer", ("auto",), "unparseable_date"),
            ("1970", ("auto",), "unparseable_date"),  # a bare year is not a serial
            (1970, ("auto",), "unparseable_date"),
            (25569, ("iso",), "unparseable_date"),
            (-5, ("excel",), "unparseable_date"),
            (99999999, ("excel",), "unparseable_date"),
            (True, ("excel",), "unparseable_date"),
            ("1899-12-31", ("iso",), "too_old"),
            ("0001-01-01", ("iso",), "too_old"),
            ("2025-06-16", ("iso",), "future_date"),
            ("16/06/2025", ("dmy",), "future_date"),
            (datetime(2030, 1, 1), ("iso",), "future_date"),
        ],
    )
    def test_errors(
        self, value: str | int | float | None, formats: Sequence[str], code: str
    ) -> None:
        with pytest.raises(DateError) as excinfo:
            parse_date(value, formats, today=TODAY)
        assert excinfo.value.code == code
        assert code in DATE_ERROR_CODES
        assert isinstance(excinfo.value, ValueError)

    def test_today_itself_is_not_future(self) -> None:
        assert parse_date("2025-06-15", today=TODAY) == TODAY

    def test_default_today_is_the_real_one(self) -> None:
        with pytest.raises(DateError) as excinfo:
            parse_date(f"{date.today().year + 1}-01-01")
        assert excinfo.value.code == "future_date"

    def test_message_does_not_leak_the_date(self) -> None:
        with pytest.raises(DateError) as excinfo:
            parse_date("31/02/1970", ("dmy",))
        assert str(excinfo.value) == "impossible_date"
        assert excinfo.value.value == "31/02/1970"

    def test_unknown_format(self) -> None:
        with pytest.raises(ValueError, match="unknown date format"):
            parse_date("1970-01-01", ("european",))


class TestParsePeriod:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("202401", "2024-01"),
            ("2024-01", "2024-01"),
            ("2024/12", "2024-12"),
            (" 202406 ", "2024-06"),
        ],
    )
    def test_valid(self, value: str, expected: str) -> None:
        assert parse_period(value) == expected

    @pytest.mark.parametrize(
        ("value", "code"),
        [
            ("", "missing_date"),
            ("2024", "unparseable_date"),
            ("2024-1", "unparseable_date"),
            ("01/2024", "unparseable_date"),
            ("2024-01-01", "unparseable_date"),
            ("202413", "impossible_date"),
            ("2024-00", "impossible_date"),
            ("1850-01", "too_old"),
        ],
    )
    def test_invalid(self, value: str, code: str) -> None:
        with pytest.raises(DateError) as excinfo:
            parse_period(value)
        assert excinfo.value.code == code


class TestAges:
    @pytest.mark.parametrize(
        ("birth", "on", "years"),
        [
            (date(1960, 5, 10), date(2025, 5, 9), 64),
            (date(1960, 5, 10), date(2025, 5, 10), 65),
            (date(1960, 5, 10), date(1960, 5, 10), 0),
            (date(1960, 12, 31), date(2025, 1, 1), 64),
            # 29 February: completed on 1 March in common years
            (date(2000, 2, 29), date(2001, 2, 28), 0),
            (date(2000, 2, 29), date(2001, 3, 1), 1),
            (date(2000, 2, 29), date(2004, 2, 28), 3),
            (date(2000, 2, 29), date(2004, 2, 29), 4),
        ],
    )
    def test_age_on(self, birth: date, on: date, years: int) -> None:
        assert age_on(birth, on) == years

    @pytest.mark.parametrize(
        ("birth", "on", "months"),
        [
            (date(2023, 1, 15), date(2023, 1, 15), 0),
            (date(2023, 1, 15), date(2023, 2, 14), 0),
            (date(2023, 1, 15), date(2023, 2, 15), 1),
            (date(2022, 6, 15), date(2025, 6, 14), 35),  # still < 36 months: Cuna Más
            (date(2022, 6, 15), date(2025, 6, 15), 36),
            (date(2023, 1, 31), date(2023, 2, 28), 0),
            (date(2023, 1, 31), date(2023, 3, 1), 1),
            (date(2020, 2, 29), date(2021, 2, 28), 11),
            (date(2020, 2, 29), date(2021, 3, 1), 12),
            (date(2023, 12, 1), date(2024, 1, 1), 1),
        ],
    )
    def test_age_in_months(self, birth: date, on: date, months: int) -> None:
        assert age_in_months(birth, on) == months

    @pytest.mark.parametrize("function", [age_on, age_in_months])
    def test_on_before_birth(self, function) -> None:
        with pytest.raises(ValueError, match="before birth"):
            function(date(2020, 1, 2), date(2020, 1, 1))
