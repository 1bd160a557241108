"""Households and people: places, ages, names, documents, CSE, deaths and disability."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from rnu.synth.names import NameBook, WeightedPicker
from rnu.synth.places import District, load_districts

# Multiplier/offset pairs: n -> (A*n + B) mod 10^k is a bijection when A is coprime to 10,
# so every index gets a distinct number without a global "already used" set (chunks stay
# independent) and about 10% of DNIs start with 0, as real ones do.
_DNI_A = 73_939_133
_CE_A = 987_654_323
_HOGAR_A = 618_033_989
DNI_SPACE = 10**8
# Index ranges of the DNI bijection: PGH people use [0, MAX_PEOPLE); people who are not in the
# PGH (and second DNIs of roll duplicates) use OUTSIDE_PER_CHUNK indices per chunk from
# OUTSIDE_BASE; everything else is free, so a mistyped DNI there belongs to no one.
MAX_PEOPLE = 50_000_000
OUTSIDE_BASE = 60_000_000
OUTSIDE_PER_CHUNK = 10_000
OUTSIDE_END = 90_000_000
DIGITS = "0123456789"
_CHECK_DIGITS = "65432110987"
_CHECK_LETTERS = "KJIHGFEDCBA"
_CHECK_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)


def check_chars(number8: str) -> tuple[str, str]:
    """The (digit, letter) check characters of an 8-digit DNI/CUI (same as stdnum.pe.cui)."""
    c = sum(w * (ord(n) - 48) for w, n in zip(_CHECK_WEIGHTS, number8, strict=True)) % 11
    return _CHECK_DIGITS[c], _CHECK_LETTERS[c]


@dataclass(frozen=True, slots=True)
class Numbering:
    """Seed-dependent offsets of the document and household number bijections."""

    dni_b: int
    ce_b: int
    hogar_b: int

    @classmethod
    def for_seed(cls, seed: int) -> Numbering:
        """Different seeds give different numbers."""
        rng = random.Random(seed ^ 0x5EED)
        return cls(rng.randrange(DNI_SPACE), rng.randrange(10**9), rng.randrange(10**9))

    def dni(self, index: int) -> str:
        """A unique 8-digit DNI/CUI number for a person index."""
        return f"{(_DNI_A * index + self.dni_b) % DNI_SPACE:08d}"

    def dni_index(self, number: str) -> int:
        """Inverse of `dni`: which person index owns this number."""
        return ((int(number) - self.dni_b) * pow(_DNI_A, -1, DNI_SPACE)) % DNI_SPACE

    def is_unused(self, number: str) -> bool:
        """True when no person and no roll-only identity can ever get this DNI number."""
        index = self.dni_index(number)
        return MAX_PEOPLE <= index < OUTSIDE_BASE or index >= OUTSIDE_END

    def ce(self, index: int) -> str:
        """A unique 9-digit carné de extranjería number."""
        return f"{(_CE_A * index + self.ce_b) % 10**9:09d}"

    def hogar(self, index: int) -> str:
        """A unique 9-digit household code (CO_HOGAR)."""
        return f"{(_HOGAR_A * index + self.hogar_b) % 10**9:09d}"


class Household:
    """A PGH household: place, CSE and members."""

    __slots__ = ("area", "cse", "cse_fin", "cse_ini", "district", "hogar", "index", "members")

    def __init__(
        self,
        index: int,
        hogar: str,
        district: District,
        area: str,
        cse: str,
        cse_ini: int,
        cse_fin: int,
    ) -> None:
        self.index = index
        self.hogar = hogar
        self.district = district
        self.area = area
        self.cse = cse
        self.cse_ini = cse_ini
        self.cse_fin = cse_fin
        self.members: list[Person] = []


class Person:
    """One real person (and, for re-registrations, the PGH row that repeats them)."""

    __slots__ = (
        "age",
        "age_months",
        "birth",
        "death",
        "disabled",
        "doc",
        "household",
        "key",
        "kin",
        "materno",
        "nombres",
        "orden",
        "parentesco",
        "paterno",
        "sex",
        "ti_doc",
    )

    def __init__(
        self,
        household: Household | None,
        sex: str,
        birth: int,
        paterno: str,
        materno: str,
        nombres: str,
        parentesco: str,
    ) -> None:
        self.household = household
        self.sex = sex
        self.birth = birth
        self.paterno = paterno
        self.materno = materno
        self.nombres = nombres
        self.parentesco = parentesco
        self.orden = 0
        self.key = ""
        self.ti_doc = "0"
        self.doc = ""
        self.age = 0
        self.age_months = 0
        self.death = 0  # ordinal of the death date, 0 when alive
        self.disabled = False
        self.kin = ""  # "twin" / "father_son": someone in the household looks like them


# Parentesco codes as in the SISFOH/ENAHO household roster.
JEFE, CONYUGE, HIJO, NIETO, PADRES, OTRO = "1", "2", "3", "5", "6", "7"


class Calendar:
    """Dates as ordinals with precomputed (y, m, d) and ISO text, so no strftime per row."""

    def __init__(self, period: str) -> None:
        year, month = int(period[:4]), int(period[5:7])
        self.start = date(year, month, 1).toordinal()
        self.first = date(1900, 1, 1).toordinal()
        last = date(year + 4, 12, 31).toordinal()
        self.iso: list[str] = []
        self.ymd: list[tuple[int, int, int]] = []
        for o in range(self.first, last + 1):
            d = date.fromordinal(o)
            self.iso.append(d.isoformat())
            self.ymd.append((d.year, d.month, d.day))
        self.py, self.pm = year, month

    def text(self, ordinal: int) -> str:
        """ISO date of an ordinal."""
        return self.iso[ordinal - self.first]

    def year(self, ordinal: int) -> int:
        """Calendar year of an ordinal."""
        return self.ymd[ordinal - self.first][0]

    def ages(self, birth: int, month: int | None = None) -> tuple[int, int]:
        """(whole years, whole months) on the first day of the period (or of ``month`` of the
        period's year: 1 for a yearly roll)."""
        y, m, d = self.ymd[birth - self.first]
        months = (self.py - y) * 12 + ((month or self.pm) - m) - (d > 1)
        return months // 12, months


class PopulationMaker:
    """Builds households one at a time from a chunk's RNG."""

    def __init__(
        self,
        rng: random.Random,
        cal: Calendar,
        names: NameBook | None = None,
        *,
        twin: float = 0.0,
        father_son: float = 0.0,
    ) -> None:
        self.rng = rng
        self.cal = cal
        self.names = names or NameBook()
        self.twin = twin
        self.father_son = father_son
        districts = load_districts()
        self.districts = districts
        self.district_picker = WeightedPicker({str(i): d.weight for i, d in enumerate(districts)})

    def _age_to_birth(self, age: int) -> int:
        return self.cal.start - age * 365 - self.rng.randrange(1, 366) - age // 4

    def household(self, index: int, hogar: str) -> Household:
        """A household with its members' demographic facts (documents come later)."""
        rng = self.rng
        district = self.districts[int(self.district_picker.pick(rng))]
        area = "U" if rng.random() < district.urban_share else "R"
        cse, ini, fin = self._cse(area)
        hh = Household(index, hogar, district, area, cse, ini, fin)
        self._members(hh)
        return hh

    def _cse(self, area: str) -> tuple[str, int, int]:
        rng = self.rng
        r = rng.random()
        if area == "R":
            cse = "PE" if r < 0.35 else ("P" if r < 0.70 else "NP")
        else:
            cse = "PE" if r < 0.05 else ("P" if r < 0.30 else "NP")
        # Better-off households often never ask for a classification.
        never = 0.35 if cse == "NP" else 0.03
        if rng.random() < never:
            return "", 0, 0
        ini = self.cal.start - rng.randrange(30, 1205)  # ~9% expired before the period
        return cse, ini, ini + 3 * 365

    def _surname(self, region: str) -> str:
        return self.names.surnames[region].pick(self.rng)

    def _person(
        self, hh: Household, sex: str, age: int, paterno: str, materno: str, rel: str
    ) -> Person:
        birth = self._age_to_birth(age)
        nombres = self.names.given_name(self.rng, sex, self.cal.year(birth))
        p = Person(hh, sex, birth, paterno, materno, nombres, rel)
        hh.members.append(p)
        return p

    def _members(self, hh: Household) -> None:
        rng = self.rng
        region = hh.district.region
        rural = hh.area == "R"
        r = rng.random()
        sur = self._surname
        if r < 0.13:  # one person
            age = 18 + int(80 * rng.random() ** 1.2)
            sex = "F" if rng.random() < 0.5 else "M"
            self._person(hh, sex, age, sur(region), sur(region), JEFE)
            return
        if r < 0.22:  # older couple without children at home
            age = 50 + int(42 * rng.random() ** 1.2)
            self._person(hh, "M", age, sur(region), sur(region), JEFE)
            self._person(
                hh, "F", max(18, age - rng.randrange(-3, 8)), sur(region), sur(region), CONYUGE
            )
            return
        single_mother = r < 0.35
        head_age = 22 + int(46 * rng.random())
        if single_mother:
            mother = self._person(hh, "F", head_age, sur(region), sur(region), JEFE)
            father_paterno = sur(region) if rng.random() < 0.6 else mother.paterno
            child_materno = mother.paterno if father_paterno != mother.paterno else mother.materno
        else:
            father = self._person(hh, "M", head_age, sur(region), sur(region), JEFE)
            mother = self._person(
                hh, "F", max(18, head_age - rng.randrange(-2, 7)), sur(region), sur(region), CONYUGE
            )
            father_paterno = father.paterno
            child_materno = mother.paterno
        mother_age = age_of(mother, self.cal)
        n_children = 1 + int(rng.random() * (6.0 if rural else 4.5))
        for _ in range(n_children):
            # Mothers give birth between 17 and 38; children over 25 have left home.
            age = mother_age - rng.randrange(17, 39)
            if not 0 <= age <= 25:
                continue
            sex = "F" if rng.random() < 0.49 else "M"
            child = self._person(hh, sex, age, father_paterno, child_materno, HIJO)
            if not single_mother and sex == "M" and rng.random() < self.father_son:
                child.nombres = father.nombres  # JUAN CARLOS QUISPE, father and son
                child.kin = father.kin = "father_son"
            if rng.random() < self.twin:
                self._twin(hh, child)
        if r > 0.8:  # extended household: the head's parents live with them
            head = hh.members[0]
            head_age_now = age_of(head, self.cal)
            if head_age_now > 55:
                return
            age = head_age_now + 20 + rng.randrange(0, 16)
            if rng.random() < 0.6:
                self._person(hh, "F", age, head.materno, sur(region), PADRES)
            if rng.random() < 0.5:
                self._person(hh, "M", age + rng.randrange(0, 5), head.paterno, sur(region), PADRES)

    def _twin(self, hh: Household, child: Person) -> None:
        """A twin: same birth date and surnames, other given names (sometimes one shared:
        MARÍA ELENA and MARÍA LUISA)."""
        rng = self.rng
        sex = child.sex if rng.random() < 0.6 else ("M" if child.sex == "F" else "F")
        year = self.cal.year(child.birth)
        for _ in range(8):
            nombres = self.names.given_name(rng, sex, year)
            if nombres != child.nombres:
                break
        else:
            return
        first = child.nombres.split()[0]
        if sex == child.sex and " " in nombres and rng.random() < 0.4:
            nombres = f"{first} {nombres.split(maxsplit=1)[1]}"
            if nombres == child.nombres:
                return
        twin = Person(hh, sex, child.birth, child.paterno, child.materno, nombres, HIJO)
        hh.members.append(twin)
        twin.kin = child.kin = "twin"


def age_of(p: Person, cal: Calendar) -> int:
    """Age in whole years of a member on the first day of the period."""
    return cal.ages(p.birth)[0]
