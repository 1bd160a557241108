"""Data defects injected into roll rows, each applied only where it makes sense."""

from __future__ import annotations

import random
from bisect import bisect
from itertools import accumulate

from rnu.synth.population import DIGITS, check_chars
from rnu.synth.rates import Rates


class RollRow:
    """The fields a roll row is built from, before the file's own layout."""

    __slots__ = (
        "alt_date",
        "birth",
        "check",
        "doc",
        "extra",
        "materno",
        "nombres",
        "paterno",
        "sex",
        "ti_doc",
        "ubigeo",
    )

    def __init__(
        self,
        ti_doc: str,
        doc: str,
        paterno: str,
        materno: str,
        nombres: str,
        birth: int,
        sex: str,
        ubigeo: str,
        extra: tuple[str, ...] = (),
    ) -> None:
        self.ti_doc = ti_doc
        self.doc = doc
        self.paterno = paterno
        self.materno = materno
        self.nombres = nombres
        self.birth = birth
        self.sex = sex
        self.ubigeo = ubigeo
        self.extra = extra
        self.alt_date = False
        self.check = ""  # a 9th character appended to the DNI, valid or not


_NEIGHBOURS = {
    "A": "SQE",
    "E": "IAR",
    "I": "EYO",
    "O": "UIP",
    "U": "OYI",
    "B": "VN",
    "V": "BC",
    "S": "ZCA",
    "Z": "SX",
    "C": "SKX",
    "K": "CQ",
    "Y": "IL",
    "L": "YK",
    "N": "MÑ",
    "M": "N",
    "R": "TE",
    "T": "RY",
    "H": "GJ",
    "G": "HJ",
    "P": "O",
    "D": "TS",
    "Q": "K",
    "J": "H",
    "F": "G",
}


def typo(text: str, rng: random.Random) -> str:
    """One keyboard/phonetic slip: substitute, drop or double a letter."""
    positions = [i for i, ch in enumerate(text) if ch.isalpha()]
    if not positions:
        return text
    i = positions[rng.randrange(len(positions))]
    op = rng.random()
    if op < 0.6:
        choices = _NEIGHBOURS.get(text[i], "AEIO")
        new = text[:i] + choices[rng.randrange(len(choices))] + text[i + 1 :]
    elif op < 0.8 and len(positions) > 3:
        new = text[:i] + text[i + 1 :]
    else:
        new = text[:i] + text[i] + text[i:]
    return new if new != text else text + "S"


def transpose(number: str, rng: random.Random) -> str | None:
    """Swap two adjacent different digits, or None when every neighbour pair is equal."""
    spots = [i for i in range(len(number) - 1) if number[i] != number[i + 1]]
    if not spots:
        return None
    i = spots[rng.randrange(len(spots))]
    return number[:i] + number[i + 1] + number[i] + number[i + 2 :]


def wrong_check(number8: str, rng: random.Random) -> str:
    """A 9th character that is not a valid check character for this number."""
    digit, _letter = check_chars(number8)
    wrong = DIGITS.replace(digit, "")
    return wrong[rng.randrange(len(wrong))]


def mojibake(text: str, encoding: str) -> str | None:
    """UTF-8 bytes re-read as Latin-1 (cp1252 for cp1252 files), or None if not possible."""
    if text.isascii():
        return None
    reread = "cp1252" if encoding == "cp1252" else "latin-1"
    try:
        bad = text.encode("utf-8").decode(reread)
        bad.encode(encoding)
    except UnicodeError:
        return None
    return bad


class DefectInjector:
    """Draw defects per row at the configured rates; a drawn defect that cannot apply to this
    row waits for the next row where it can, so realised rates match the configured ones."""

    def __init__(
        self, rates: Rates, applicable: tuple[str, ...], encoding: str, rng: random.Random
    ) -> None:
        self.rng = rng
        self.encoding = encoding
        self.names = applicable
        self.cum = list(accumulate(float(getattr(rates, d)) for d in applicable))
        self.pending: list[str] = []

    def apply(self, row: RollRow) -> list[str]:
        """Mutate `row` with zero, one or (rarely) two defects; return their codes."""
        rng = self.rng
        r = rng.random()
        if self.cum and r < self.cum[-1]:
            self.pending.append(self.names[bisect(self.cum, r)])
        if not self.pending:
            return []
        done: list[str] = []
        for name in list(self.pending):
            if len(done) == 2:
                break
            if self._try(name, row):
                self.pending.remove(name)
                done.append(name)
        return done

    def _try(self, name: str, row: RollRow) -> bool:
        rng = self.rng
        if name == "typo":
            field = rng.random()
            if field < 0.4:
                row.paterno = typo(row.paterno, rng)
            elif field < 0.8 or not row.materno:
                row.nombres = typo(row.nombres, rng)
            else:
                row.materno = typo(row.materno, rng)
            return True
        if name == "swapped_surnames":
            if not row.materno or row.materno == row.paterno:
                return False
            row.paterno, row.materno = row.materno, row.paterno
            return True
        if name == "missing_materno":
            if not row.materno:
                return False
            row.materno = ""
            return True
        if name == "mojibake":
            for attr in ("paterno", "materno", "nombres"):
                bad = mojibake(getattr(row, attr), self.encoding)
                if bad is not None:
                    setattr(row, attr, bad)
                    return True
            return False
        if name == "other_date_format":
            row.alt_date = True
            return True
        is_dni = row.ti_doc in ("1", "3") and len(row.doc) == 8 and not row.check
        if name == "lost_leading_zeros":
            if not is_dni or row.doc[0] != "0":
                return False
            row.doc = row.doc.lstrip("0")
            return True
        if name == "wrong_check_char":
            if not is_dni:
                return False
            row.check = wrong_check(row.doc, rng)
            return True
        if name == "transposed_digits":
            if not is_dni:
                return False
            new = transpose(row.doc, rng)
            if new is None:
                return False
            row.doc = new
            return True
        if name == "missing_document":
            if not row.doc:
                return False
            row.doc = ""
            row.check = ""
            return True
        if name == "duplicate_row":
            return True  # the writer repeats the row
        raise ValueError(name)
