"""Dates, periods and ages as sectors write them (ISO, DD/MM/YYYY, MM/DD/YYYY, YYYYMMDD, Excel).

Each failure carries a machine-readable code so a loader can quarantine the row with a
reason instead of guessing a date.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Final

__all__ = [
    "DATE_ERROR_CODES",
    "DATE_FORMATS",
    "DateError",
    "age_in_months",
    "age_on",
    "parse_date",
    "parse_period",
]

DATE_ERROR_CODES: Final = frozenset(
    {"missing_date", "unparseable_date", "impossible_date", "future_date", "too_old"}
)
DATE_FORMATS: Final = frozenset(
    {"iso", "dmy", "mdy", "ymd_compact", "dmy_compact", "excel", "auto"}
)
MIN_YEAR: Final = 1900


class DateError(ValueError):
    """A value that is not a usable date; `code` is one of DATE_ERROR_CODES."""

    def __init__(self, code: str, value: object) -> None:
        # The message is the code alone: a birth date is a secret for citizen lookups, and
        # exception messages end up in logs. The value stays on the exception for callers.
        super().__init__(code)
        self.code = code
        self.value = value


# An optional time part after a date ("2000-01-31T00:00:00", "31/01/2000 00:00"), as left by
# database and Excel-to-CSV exports.
_TIME: Final = (
    r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[AaPp]\.?[Mm]\.?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)
# "iso" takes '/' as well: a four-digit year first is unambiguous whatever the separator.
_YMD: Final = re.compile(rf"^(\d{{4}})([-/])(\d{{1,2}})\2(\d{{1,2}}){_TIME}$")
_XXY: Final = re.compile(rf"^(\d{{1,2}})([-/.])(\d{{1,2}})\2(\d{{4}}){_TIME}$")
_COMPACT: Final = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SERIAL: Final = re.compile(r"^(\d{1,7})(?:\.\d+)?$")
_ZERO_DATE: Final = re.compile(r"^[0\W_]*$")  # 0000-00-00, 00/00/0000: an empty date

# Excel's 1900 date system counts 1900-01-01 as day 1 and, copying a Lotus 1-2-3 bug,
# believes 1900 was a leap year: serial 60 is the non-existent 1900-02-29, and from 61 on
# every serial is one day ahead of a plain count.
_EXCEL_EPOCH: Final = date(1899, 12, 31)
_EXCEL_FAKE_LEAP_DAY: Final = 60
_EXCEL_MAX: Final = 2_958_465  # 9999-12-31

# `None` = this format does not recognise the text; a str = a DateError code.
_Result = date | str | None


def _ymd(year: int, month: int, day: int) -> date | str:
    try:
        return date(year, month, day)
    except ValueError:
        return "impossible_date"


def _from_excel(serial: int) -> date | str:
    if serial == _EXCEL_FAKE_LEAP_DAY or serial <= 0:
        return "impossible_date"  # 1900-02-29 and "1900-01-00" are not days
    if serial > _EXCEL_MAX:
        return "unparseable_date"
    if serial > _EXCEL_FAKE_LEAP_DAY:
        serial -= 1
    return _EXCEL_EPOCH + timedelta(days=serial)


def _try_format(text: str, fmt: str) -> _Result:
    if fmt == "iso":
        m = _YMD.match(text)
        return _ymd(int(m[1]), int(m[3]), int(m[4])) if m else None
    if fmt in ("dmy", "mdy"):
        m = _XXY.match(text)
        if not m:
            return None
        first, second, year = int(m[1]), int(m[3]), int(m[4])
        return _ymd(year, second, first) if fmt == "dmy" else _ymd(year, first, second)
    if fmt == "ymd_compact":
        m = _COMPACT.match(text)
        return _ymd(int(m[1]), int(m[2]), int(m[3])) if m else None
    if fmt == "dmy_compact":
        m = _COMPACT.match(text)
        return _ymd(int(text[4:]), int(text[2:4]), int(text[:2])) if m else None
    if fmt == "excel":
        m = _SERIAL.match(text)
        return _from_excel(int(m[1])) if m else None
    if fmt == "auto":
        return _try_auto(text)
    raise ValueError(f"unknown date format {fmt!r}; expected one of {sorted(DATE_FORMATS)}")


def _is_bare_year(text: str) -> bool:
    """A lone 1800-2100 is a year someone typed, not the Excel serial of a day in 1904-05."""
    whole = text.partition(".")[0]
    return len(whole) == 4 and 1800 <= int(whole) <= 2100


def _try_auto(text: str) -> _Result:
    """YYYYMMDD then DDMMYYYY for 8 digits; else ISO, an Excel serial (1-7 digits), and
    DD/MM/YYYY unless only MM/DD/YYYY can be a date.

    A bare year is not taken as a serial under "auto" (see `_is_bare_year`).

    DD/MM vs MM/DD is ambiguous for days 1-12; Peruvian files are day-first, so only a
    second number above 12 (which cannot be a month) makes the text month-first.
    """
    if _COMPACT.match(text):
        result = _try_format(text, "ymd_compact")
        return result if isinstance(result, date) else _try_format(text, "dmy_compact")
    for fmt in ("iso", "excel"):
        result = _try_format(text, fmt)
        if result is not None:
            if fmt == "excel" and _is_bare_year(text):
                return "unparseable_date"
            return result
    m = _XXY.match(text)
    if not m:
        return None
    first, second = int(m[1]), int(m[3])
    return _try_format(text, "mdy" if second > 12 and first <= 12 else "dmy")


@lru_cache(maxsize=1 << 16)
def _parse_text(text: str, formats: tuple[str, ...]) -> date | str:
    """Date or error code for a stripped text; cached because birth dates repeat a lot."""
    if _ZERO_DATE.match(text):
        return "missing_date"
    error: str | None = None
    for fmt in formats:
        result = _try_format(text, fmt)
        if isinstance(result, date):
            return result
        if result is not None and error is None:
            error = result  # recognised but not a real day; another format may still fit
    return error or "unparseable_date"


def _parse_number(value: int | float, formats: tuple[str, ...]) -> date | str:
    if isinstance(value, float) and math.isnan(value):
        return "missing_date"
    if value < 0 or (isinstance(value, float) and math.isinf(value)):
        return "unparseable_date"
    whole = int(value)  # an Excel serial's fraction is the time of day
    if whole < 10_000_000 and ("excel" in formats or "auto" in formats):
        if "excel" not in formats and _is_bare_year(str(whole)):
            return "unparseable_date"
        return _from_excel(whole)
    return _parse_text(str(whole), formats)


def parse_date(
    value: str | int | float | datetime | date | None,
    formats: Sequence[str] = ("iso",),
    *,
    today: date | None = None,
) -> date:
    """Parse a date written in one of `formats`, tried in order, or raise DateError.

    Format names: "iso" (YYYY-MM-DD, optional time), "dmy" (DD/MM/YYYY, DD-MM-YYYY),
    "mdy" (MM/DD/YYYY), "ymd_compact" (YYYYMMDD), "dmy_compact" (DDMMYYYY, what a
    fixed-width file gets when a day-first date loses its slashes), "excel" (1900-system
    serial as a number or digit string) and "auto" (see `_try_auto`). Dates before 1900
    are "too_old" and dates after `today` (default: the real today) are "future_date".
    """
    if value is None:
        raise DateError("missing_date", value)
    formats = tuple(formats)
    result: date | str
    if isinstance(value, datetime):
        result = value.date()
    elif isinstance(value, date):
        result = value
    elif isinstance(value, bool):
        result = "unparseable_date"
    elif isinstance(value, int | float):
        result = _parse_number(value, formats)
    else:
        text = value.strip()
        result = _parse_text(text, formats) if text else "missing_date"
    if isinstance(result, str):
        raise DateError(result, value)
    if result.year < MIN_YEAR:
        raise DateError("too_old", value)
    if result > (today or date.today()):
        raise DateError("future_date", value)
    return result


_PERIOD: Final = re.compile(r"^(\d{4})[-/]?(\d{2})$")


def parse_period(value: str) -> str:
    """Normalise a period "YYYYMM", "YYYY-MM" or "YYYY/MM" to "YYYY-MM", or raise DateError."""
    m = _PERIOD.match(value.strip())
    if not m:
        raise DateError("missing_date" if not value.strip() else "unparseable_date", value)
    year, month = int(m[1]), int(m[2])
    if not 1 <= month <= 12:
        raise DateError("impossible_date", value)
    if year < MIN_YEAR:
        raise DateError("too_old", value)
    return f"{year:04d}-{month:02d}"


def age_on(birth: date, on: date) -> int:
    """Whole years completed on `on`.

    A 29 February birthday is completed on 1 March in common years (the anniversary that
    does not exist falls on the next day), which is what the tuple comparison gives.
    Raises ValueError when `on` is before `birth`.
    """
    if on < birth:
        raise ValueError(f"date {on} is before birth {birth}")
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def age_in_months(birth: date, on: date) -> int:
    """Whole months completed on `on`; a month is completed on the same day number.

    A birth day that the month lacks (31 → 30 April) completes on the 1st of the next month,
    consistent with `age_on` for 29 February. Raises ValueError when `on` is before `birth`.
    """
    if on < birth:
        raise ValueError(f"date {on} is before birth {birth}")
    return (on.year - birth.year) * 12 + on.month - birth.month - (on.day < birth.day)
