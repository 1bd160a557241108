"""A roll's period: a month (``YYYY-MM``, most programs) or a year (``YYYY``, Beca 18).

Periods travel as text (SQL columns, URLs, JSON), and slicing that text by position broke on
the yearly form ("2026"[5:7] is empty: every Beca 18 roll answered a 500). Everything that
needs the parts, the first day or the Spanish label parses a ``Period`` instead.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from functools import total_ordering

from rnu.errors import InvalidPeriod

MONTHS_ES = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "setiembre",  # the spelling Peru's state uses
    "octubre",
    "noviembre",
    "diciembre",
)

MONTHLY_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
PATTERN = r"^\d{4}(-(0[1-9]|1[0-2]))?$"
"""A monthly or a yearly period, for request validation (pydantic ``Field(pattern=...)``)."""

_FORM = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2]))?$")
_COMPACT = re.compile(r"^(\d{4})(0[1-9]|1[0-2])?$")  # YYYYMM, as in sector file names


@total_ordering
@dataclass(frozen=True, slots=True)
class Period:
    """One period; ``month`` is None for a yearly one. Ordered by first day."""

    year: int
    month: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.year <= 9999 or (self.month is not None and not 1 <= self.month <= 12):
            raise InvalidPeriod(f"{self.year}-{self.month} is not a period")

    @classmethod
    def parse(cls, text: str, *, compact: bool = False) -> Period:
        """'2026-03' or '2026' ('202603' too when ``compact``); InvalidPeriod otherwise."""
        if not isinstance(text, str):
            raise InvalidPeriod(f"{text!r} is not a period YYYY-MM or YYYY")
        match = _FORM.match(text.strip()) or (_COMPACT.match(text.strip()) if compact else None)
        if match is None:
            raise InvalidPeriod(f"{text!r} is not a period YYYY-MM or YYYY")
        year, month = match.groups()
        return cls(int(year), int(month) if month else None)

    @classmethod
    def of_month(cls, day: date) -> Period:
        return cls(day.year, day.month)

    @property
    def is_yearly(self) -> bool:
        return self.month is None

    @property
    def first_day(self) -> date:
        """The day every rule judges the period on (1 January for a yearly period)."""
        return date(self.year, self.month or 1, 1)

    @property
    def last_day(self) -> date:
        if self.month is None:
            return date(self.year, 12, 31)
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    @property
    def first_month(self) -> Period:
        """The month a yearly period starts in (itself when monthly): whose rule judges it."""
        return Period(self.year, self.month or 1)

    @property
    def label(self) -> str:
        """In Spanish: 'marzo de 2026', or '2026' for a yearly period."""
        if self.month is None:
            return str(self.year)
        return f"{MONTHS_ES[self.month - 1]} de {self.year}"

    def __str__(self) -> str:
        return f"{self.year:04d}" if self.month is None else f"{self.year:04d}-{self.month:02d}"

    def _key(self) -> tuple[int, int]:
        return (self.year, self.month or 1)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self._key() < other._key()


def roll_period(text: str, *, yearly: bool) -> str:
    """A roll's period as stored: "YYYY-MM" (or "YYYY" when `yearly`); InvalidPeriod else.

    For what an operator types (`--period`, `rnu check`, `rnu explain`): "202610" is read as
    "2026-10"; a month 13, or a year for a monthly program, is refused with the form expected.
    """
    try:
        parsed = Period.parse(text, compact=True)
    except InvalidPeriod:
        parsed = None
    if parsed is None or parsed.is_yearly != yearly:
        form = "a year YYYY" if yearly else "a month YYYY-MM (01 to 12)"
        raise InvalidPeriod(f"period {text!r}: this roll's period is {form}")
    return str(parsed)


def first_day(period: str) -> date:
    """The first day of a period given as text; InvalidPeriod when it is not one."""
    return Period.parse(period).first_day


def label(period: str | None) -> str:
    """A period's Spanish label; text that is not a period is returned unchanged."""
    if not period:
        return ""
    try:
        return Period.parse(period).label
    except InvalidPeriod:
        return period
