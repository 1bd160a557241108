"""Which words are given names and never surnames, to read a names-first field with one surname.

"GABRIELA KATHERINE RUIZ" is two given names and a paterno, not GABRIELA + two surnames: a
names-first field cannot say which, so the word in the middle decides. The word lists are the
frequency tables of Peruvian given names and surnames in `rnu.synth.names` (the same tables the
synthetic country draws from); RENIEC's own name statistics would replace them in production.
A word that is both (SALVADOR, LEÓN, MARTÍN) is not treated as a given name.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def given_only() -> frozenset[str]:
    """Folded single words that appear in given names and never as surnames."""
    from rnu.normalize.names import fold
    from rnu.synth.names import FEMALE_NAMES, MALE_NAMES, SURNAMES

    def words(table: str) -> set[str]:
        found: set[str] = set()
        for line in table.splitlines():
            for part in line.split():
                if part.replace(".", "").isdigit():
                    break
                found.add(fold(part))
        return found

    return frozenset(words(MALE_NAMES) | words(FEMALE_NAMES)) - frozenset(words(SURNAMES))
