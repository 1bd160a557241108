"""Data defects injected into roll rows, each applied only where it makes sense.

Besides slips (typos, transposed digits, mojibake) a real padrón carries what people and
offices do with names, dates and documents: a compound given name cut to the one the
person uses (MARÍA DEL CARMEN -> CARMEN) or abbreviated (MA. DEL CARMEN); a married
woman's "DE" / "VDA. DE" surname; given name and surname in each other's columns; Quechua
and Aymara surnames written as the clerk hears them (HUAMÁN / GUAMÁN / WAMAN); OCR slips of
scanned forms (RN for M); a birth date with day and month swapped, a year off by one, the
01/01 placeholder or none at all; and a child's row carrying the mother's DNI or a
neighbour's. Each is a defect code in truth/rows.csv (see rnu.synth.truth).
"""

from __future__ import annotations

import random
import re
from bisect import bisect
from datetime import date
from itertools import accumulate

from rnu.synth.names import andean_surnames
from rnu.synth.population import DIGITS, check_chars
from rnu.synth.rates import Rates


class RollRow:
    """The fields a roll row is built from, before the file's own layout."""

    __slots__ = (
        "adult",
        "alt_date",
        "birth",
        "check",
        "doc",
        "extra",
        "materno",
        "mother_doc",
        "neighbour_doc",
        "nombres",
        "paterno",
        "sex",
        "spouse_surname",
        "tags",
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
        # Context some defects need (set by rnu.synth.programs): is the person 20 or older,
        # the DNI of the child's mother and of someone in a neighbouring household, the
        # surname a married woman may take; and population tags (twin, father_son, ...).
        self.adult = False
        self.mother_doc = ""
        self.neighbour_doc = ""
        self.spouse_surname = ""
        self.tags: tuple[str, ...] = ()


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


_PARTICLES = frozenset({"DE", "DEL", "LA", "LAS", "LOS", "Y"})
_ABBREVIATIONS = {
    "MARÍA": "MA.", "MARIA": "MA.", "FRANCISCO": "FCO.", "JOSÉ": "JSE.", "JUAN": "JN.",
    "GUILLERMO": "GMO.", "MANUEL": "MNL.",
}  # fmt: skip


def shorten_given(nombres: str, rng: random.Random) -> str | None:
    """A compound given name cut to one of its names (MARÍA DEL CARMEN -> CARMEN), or None."""
    names = [w for w in nombres.split() if w not in _PARTICLES]
    if len(names) < 2:
        return None
    return names[-1] if rng.random() < 0.6 else names[0]


def abbreviate_given(nombres: str) -> str | None:
    """The first of several given names abbreviated (MARÍA DEL CARMEN -> MA. DEL CARMEN)."""
    words = nombres.split()
    if len(words) < 2:
        return None
    words[0] = _ABBREVIATIONS.get(words[0], words[0][0] + ".")
    return " ".join(words)


def married(surname: str, rng: random.Random) -> str:
    """The second surname of a married woman ("DE QUISPE") or a widow ("VDA. DE QUISPE")."""
    return f"VDA. DE {surname}" if rng.random() < 0.3 else f"DE {surname}"


_FOLD = str.maketrans("ÁÉÍÓÚÜ", "AEIOUU")
# Spellings of Quechua and Aymara sounds in Spanish orthography and in the normalised
# alphabets (HUA/WA/GUA, QUI/KI, CC/C/Q, S/Z, final I/Y), one of which is applied.
_QUECHUA = (
    (re.compile(r"^HUA"), ("WA", "GUA")),
    (re.compile(r"HUA"), ("WA",)),
    (re.compile(r"QUI"), ("KI", "QI")),
    (re.compile(r"QUE"), ("KE",)),
    (re.compile(r"^CC"), ("C", "Q")),
    (re.compile(r"CCA"), ("CA", "QA")),
    (re.compile(r"(?<=[AEIOU])S(?=[PT])"), ("Z",)),
    (re.compile(r"(?<=[AEIOU])C(?=[AEIOU])"), ("K",)),
    (re.compile(r"I$"), ("Y",)),
)


_ANDEAN = andean_surnames()


def quechua_variant(surname: str, rng: random.Random) -> str | None:
    """Another spelling of an Andean surname (QUISPE -> QUIZPE / KISPE), or None."""
    if surname not in _ANDEAN:
        return None
    folded = surname.translate(_FOLD)
    options = [(rx, alts) for rx, alts in _QUECHUA if rx.search(folded)]
    if not options:
        return None
    rx, alts = options[rng.randrange(len(options))]
    new = rx.sub(alts[rng.randrange(len(alts))], folded, count=1)
    return new if new != surname else None


_OCR = (("RN", "M"), ("M", "RN"), ("CL", "D"), ("D", "CL"), ("O", "0"), ("I", "1"), ("S", "5"),
        ("B", "8"), ("E", "F"), ("U", "LI"), ("H", "N"), ("G", "C"))  # fmt: skip


def ocr_slip(text: str, rng: random.Random) -> str | None:
    """One confusion of a scanned form (RN read as M, O as 0), or None if none applies."""
    spots = [(i, a, b) for a, b in _OCR for i in range(len(text)) if text.startswith(a, i)]
    if not spots:
        return None
    i, a, b = spots[rng.randrange(len(spots))]
    return text[:i] + b + text[i + len(a) :]


def shifted_birth(ordinal: int, kind: str, rng: random.Random) -> int | None:
    """The birth date as a slip or placeholder writes it, or None when it cannot apply."""
    d = date.fromordinal(ordinal)
    if kind == "day_month_swapped":
        if d.day > 12 or d.day == d.month:
            return None
        return date(d.year, d.day, d.month).toordinal()
    if kind == "year_off_by_one":
        year = d.year + (1 if rng.random() < 0.5 else -1)
        return date(year, d.month, min(d.day, 28) if d.month == 2 else d.day).toordinal()
    if kind == "placeholder_birth":
        return None if (d.month, d.day) == (1, 1) else date(d.year, 1, 1).toordinal()
    raise ValueError(kind)


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
            if len(self.pending) > 64:  # a defect rarely applicable here: bounded work per row
                del self.pending[0]
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
        return self._try_harsh(name, row)

    def _try_harsh(self, name: str, row: RollRow) -> bool:
        """The defects of a real padrón beyond slips (see the module docstring)."""
        rng = self.rng
        if name == "given_shortened":
            return _set(row, "nombres", shorten_given(row.nombres, rng))
        if name == "given_abbreviated":
            return _set(row, "nombres", abbreviate_given(row.nombres))
        if name == "married_name":
            if row.sex != "F" or not row.adult or not row.spouse_surname:
                return False
            return _set(row, "materno", married(row.spouse_surname, rng))
        if name == "given_surname_swapped":
            if not row.paterno or row.paterno == row.nombres:
                return False
            row.nombres, row.paterno = row.paterno, row.nombres
            return True
        if name == "quechua_variant":
            order = ("paterno", "materno") if rng.random() < 0.6 else ("materno", "paterno")
            return any(_set(row, a, quechua_variant(getattr(row, a), rng)) for a in order)
        if name == "ocr_confusion":
            attr = ("paterno", "materno", "nombres")[rng.randrange(3)]
            return _set(row, attr, ocr_slip(getattr(row, attr), rng))
        if name in ("day_month_swapped", "year_off_by_one", "placeholder_birth"):
            return _set(row, "birth", shifted_birth(row.birth, name, rng) if row.birth else None)
        if name == "missing_birth_date":
            if not row.birth:
                return False
            row.birth = 0
            return True
        if name in ("mother_dni", "neighbour_dni"):
            other = row.mother_doc if name == "mother_dni" else row.neighbour_doc
            if not other or other == row.doc or row.ti_doc == "2":
                return False
            if name == "neighbour_dni" and not row.doc:
                return False
            row.doc, row.check = other, ""
            if name == "mother_dni":
                row.ti_doc = "1"
            return True
        raise ValueError(name)


def _set(row: RollRow, attr: str, value: str | int | None) -> bool:
    """Set a field to a defect's result; False (nothing done) when the defect cannot apply."""
    if value is None:
        return False
    setattr(row, attr, value)
    return True
