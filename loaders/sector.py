"""What every sector loader shares: its class attributes and the file it was told about."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import BinaryIO, ClassVar

from loaders.base import CanonicalRow, DeathRow, PghRow, Reject
from loaders.fields import SEX, PersonRowBuilder


class SectorLoader:
    """Base of the per-sector loaders.

    `period` is the file's period as its name says ("YYYY-MM", or "YYYY" for Beca 18): rows
    without a period of their own get it, and a row whose own period differs is rejected
    (`period_mismatch`). `today` bounds "future" dates; it defaults to the real today and is
    fixed in tests.
    """

    sector: ClassVar[str]
    program: ClassVar[str | None]
    unit: ClassVar[str]  # "person" | "household"
    yearly: ClassVar[bool] = False  # one file a year ("YYYY"), not a month ("YYYY-MM")
    encoding: ClassVar[str]
    date_formats: ClassVar[tuple[str, ...]] = ("iso", "dmy", "ymd_compact")

    def __init__(self, *, period: str | None = None, today: date | None = None) -> None:
        self.period = period
        self.today = today or date.today()

    def builder(self, sex_codes: dict[str, str] | None = None) -> PersonRowBuilder:
        """A row builder for one pass over a file."""
        return PersonRowBuilder(
            period=self.period,
            today=self.today,
            date_formats=self.date_formats,
            sex_codes=sex_codes if sex_codes is not None else dict(SEX),
        )

    def rows(self, stream: BinaryIO) -> Iterator[CanonicalRow | PghRow | DeathRow | Reject]:
        """Yield every data row of the file, loaded or rejected (read = loaded + rejected)."""
        raise NotImplementedError


class ProgramLoader(SectorLoader):
    """A program's roll: canonical person rows (it implements `RollLoader`)."""

    program: ClassVar[str]

    def rows(self, stream: BinaryIO) -> Iterator[CanonicalRow | Reject]:
        raise NotImplementedError
