"""Peak mode: a waiting room that serves self-lookups by last DNI digit on a schedule.

Programs pay a bono in turns by the last digit of the DNI; RNU can open self-lookups the same
way so an announcement's flood arrives in tenths. The schedule is one setting,
``RNU_PEAK_COHORTS="2026-11-27=0,1;2026-11-28=2,3;…"``: each listed date (Lima time) admits the
DNIs ending in its digits; a date not listed admits everyone, so the schedule ends by itself.
Everyone turned away is told, in Spanish, which day is theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

LIMA = timezone(timedelta(hours=-5), "America/Lima")  # Peru keeps no daylight saving time
DIGITS = frozenset("0123456789")


@dataclass(frozen=True)
class CohortSchedule:
    """Which final DNI digits are served on which day."""

    days: dict[date, frozenset[str]]

    @property
    def is_active(self) -> bool:
        return bool(self.days)

    def admits(self, dni: str, on: date) -> bool:
        """True when a DNI ending like this one may look itself up on day ``on``."""
        digits = self.days.get(on)
        return digits is None or dni[-1:] in digits

    def turn_for(self, dni: str, on: date) -> date:
        """The first day from ``on`` on which this DNI is served."""
        day = on
        last = max(self.days, default=on)
        while day <= last:
            if self.admits(dni, day):
                return day
            day += timedelta(days=1)
        return day  # after the schedule everyone is served

    def digits_on(self, on: date) -> frozenset[str] | None:
        """The digits served on ``on`` (None: everyone)."""
        return self.days.get(on)


def parse_schedule(spec: str) -> CohortSchedule:
    """``"2026-11-27=0,1;2026-11-28=2,3"`` → a schedule; raise ValueError when malformed."""
    days: dict[date, frozenset[str]] = {}
    for part in filter(None, (p.strip() for p in spec.replace("\n", ";").split(";"))):
        day_text, sep, digits_text = part.partition("=")
        if not sep:
            raise ValueError(f"cohort entry {part!r} must look like YYYY-MM-DD=0,1")
        day = date.fromisoformat(day_text.strip())
        digits = frozenset(d.strip() for d in digits_text.split(",") if d.strip())
        if not digits or not digits <= DIGITS:
            raise ValueError(f"cohort entry {part!r}: digits must be 0-9, comma-separated")
        if day in days:
            raise ValueError(f"cohort date {day} listed twice")
        days[day] = digits
    return CohortSchedule(days)


def today_in_lima(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(LIMA).date()


def seconds_until(day: date, now: datetime | None = None) -> int:
    """Seconds from ``now`` until midnight (Lima) starting ``day``; at least 60."""
    start = datetime(day.year, day.month, day.day, tzinfo=LIMA)
    return max(60, int((start - (now or datetime.now(UTC))).total_seconds()))
