"""Programs whose users are protected by what the program is: disability, children."""

from __future__ import annotations

import re
import unicodedata

# Being on the Contigo roll is itself the fact of a severe disability.
DISABILITY_PROGRAMS: frozenset[str] = frozenset({"CONTIGO"})
# Everyone these programs serve is a minor (Cuna Más: < 36 months; Qali Warma: schoolchildren),
# whatever birth date the file carries or lacks.
CHILD_PROGRAMS: frozenset[str] = frozenset({"CUNAMAS", "QALIWARMA"})


def program_key(program_code: str) -> str:
    """'Cuna Más' / 'CUNA_MAS' -> 'CUNAMAS': one spelling to compare codes by."""
    decomposed = unicodedata.normalize("NFKD", program_code.upper())
    return re.sub(r"[^A-Z0-9]", "", decomposed)


def is_disability_program(program_code: str) -> bool:
    """True for programs whose roll discloses a disability."""
    return program_key(program_code) in DISABILITY_PROGRAMS


def is_child_program(program_code: str) -> bool:
    """True for programs that only serve minors."""
    return program_key(program_code) in CHILD_PROGRAMS
