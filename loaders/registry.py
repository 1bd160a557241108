"""Which loader reads which file: by sector name, or detected from the file's name."""

from __future__ import annotations

import re
from pathlib import Path

from loaders import reasons
from loaders.beca18 import Beca18Loader
from loaders.contigo import ContigoLoader
from loaders.cunamas import CunaMasLoader
from loaders.deaths import DeathsLoader
from loaders.fise import FiseLoader
from loaders.juntos import JuntosLoader
from loaders.pension65 import Pension65Loader
from loaders.pgh import PghLoader
from loaders.qaliwarma import QaliWarmaLoader
from loaders.sector import ProgramLoader, SectorLoader
from loaders.sis import SisLoader

PROGRAM_LOADERS: dict[str, type[ProgramLoader]] = {
    cls.sector: cls
    for cls in (
        JuntosLoader,
        Pension65Loader,
        QaliWarmaLoader,
        CunaMasLoader,
        ContigoLoader,
        FiseLoader,
        Beca18Loader,
        SisLoader,
    )
}
LOADERS: dict[str, type[SectorLoader]] = {
    PghLoader.sector: PghLoader,
    DeathsLoader.sector: DeathsLoader,
    **PROGRAM_LOADERS,
}


def sector_named(name: str) -> str | None:
    """The sector a name means: a sector (`juntos`) or a program code (`JUNTOS`), any case."""
    folded = name.strip().lower()
    if folded in LOADERS:
        return folded
    for sector, cls in PROGRAM_LOADERS.items():
        if cls.program.lower() == folded:
            return sector
    return None


def sector_of_program(program_code: str) -> str | None:
    """The sector whose loader reads rolls of a program (`PENSION65` -> `pension65`)."""
    for sector, cls in PROGRAM_LOADERS.items():
        if cls.program == program_code.strip().upper():
            return sector
    return None


_MONTH = r"(?P<year>\d{4})(?P<month>0[1-9]|1[0-2])"
# File names from docs/formats.md, matched case-insensitively (some sectors upper-case them).
_NAMES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), sector)
    for pattern, sector in (
        (rf"^pgh_{_MONTH}\.csv$", "pgh"),
        (rf"^reniec_defunciones_{_MONTH}\.csv$", "deaths"),
        (rf"^juntos_{_MONTH}\.txt$", "juntos"),
        (rf"^pension65_{_MONTH}\.xlsx$", "pension65"),
        (rf"^qaliwarma_{_MONTH}\.txt$", "qaliwarma"),
        (rf"^cunamas_{_MONTH}\.jsonl$", "cunamas"),
        (rf"^contigo_{_MONTH}\.csv$", "contigo"),
        (rf"^fise_{_MONTH}\.csv$", "fise"),
        (r"^beca18_(?P<year>\d{4})\.xlsx$", "beca18"),
        (rf"^sis_{_MONTH}\.csv(?:\.gz)?$", "sis"),
    )
)


def detect(path: Path | str) -> tuple[str, str | None] | None:
    """(sector, period) from a file name, e.g. `juntos_202610.txt` -> ("juntos", "2026-10").

    The period is "YYYY-MM", or "YYYY" for Beca 18's yearly file; None for a name that is
    not one of the agreed file names.
    """
    name = Path(path).name.strip()
    for pattern, sector in _NAMES:
        found = pattern.match(name)
        if found is not None:
            groups = found.groupdict()
            month = groups.get("month")
            return sector, f"{groups['year']}-{month}" if month else groups["year"]
    return None


def reason_message(code: str) -> str:
    """The Spanish message for a reason code (rnu's quarantine export reads it from here)."""
    return reasons.message(code)
