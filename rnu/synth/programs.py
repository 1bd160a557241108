"""Who is on each roll: the rules decide, plus injected integrity cases at configured rates.

A row's cases are never taken from intent: they are re-derived from the person's true facts
(CSE, validity, age, death, enrollments), so truth/rows.csv cannot disagree with the PGH.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date

from rnu.eligibility.rules import Program, Rule, load_programs, rule_for
from rnu.synth.defects import RollRow
from rnu.synth.names import NameBook
from rnu.synth.places import HUALLAGA_PROVINCES, VRAEM_PROVINCES, District
from rnu.synth.population import (
    CONYUGE,
    HIJO,
    JEFE,
    OUTSIDE_BASE,
    OUTSIDE_PER_CHUNK,
    Calendar,
    Household,
    Numbering,
    Person,
    check_chars,
)
from rnu.synth.rates import CASES, Rates
from rnu.synth.writers import RollWriter

YEARLY_PROGRAMS = frozenset({"BECA18"})  # one file per year: period YYYY
PERSON_PROGRAMS = ("PENSION65", "CONTIGO", "CUNAMAS", "QALIWARMA", "BECA18", "SIS")
HOUSEHOLD_PROGRAMS = ("JUNTOS", "FISE")

# Share of eligible people (households) a program actually reaches.
COVERAGE = {
    "PENSION65": 0.85,
    "CONTIGO": 0.6,
    "CUNAMAS": 0.15,
    "BECA18": 0.2,
    "SIS": 0.96,
    "FISE": 0.35,
}
JUNTOS_COVERAGE = {"PE": 0.55, "P": 0.3}
QALIWARMA_COVERAGE = {
    ("INI", "R"): 0.9,
    ("PRI", "R"): 0.92,
    ("SEC", "R"): 0.6,
    ("INI", "U"): 0.55,
    ("PRI", "U"): 0.6,
    ("SEC", "U"): 0.1,
}
# Share of Qali Warma rows where the school never captured the child's document.
QALIWARMA_NO_DOC = 0.15
# Documents a roll accepts ("1" DNI, "2" CE, "3" CUI, "0" none).
ACCEPTED_DOCS = {
    "PENSION65": ("1",),
    "CONTIGO": ("1",),
    "BECA18": ("1", "2"),
    "CUNAMAS": ("3", "0"),
    "QALIWARMA": ("3", "1", "2", "0"),
    "SIS": ("1", "2", "3", "0"),
}
# Ages of people on a roll who are not in the PGH.
STRANGER_AGES = {"PENSION65": (65, 90), "CUNAMAS": (0, 2), "QALIWARMA": (3, 17), "BECA18": (16, 21)}
# Ages (years; months for CUNAMAS) near enough to a program's range to be enrolled by mistake.
NEAR = {"PENSION65": (60, 200), "CUNAMAS": (0, 48), "QALIWARMA": (2, 19), "BECA18": (16, 25)}
MODALIDADES = ("CUENTA BN", "CUENTA BN", "CUENTA BN", "CARRITO PAGADOR", "ETV", "AGENCIA BN")
CARRERAS = (
    "ENFERMERÍA",
    "EDUCACIÓN INICIAL",
    "INGENIERÍA CIVIL",
    "INGENIERÍA DE SISTEMAS",
    "CONTABILIDAD",
    "DERECHO",
    "MEDICINA HUMANA",
    "AGRONOMÍA",
    "ADMINISTRACIÓN",
    "COMPUTACIÓN E INFORMÁTICA",
)
INSTITUCIONES = (
    "UNIVERSIDAD NACIONAL MAYOR DE SAN MARCOS",
    "UNIVERSIDAD NACIONAL DE SAN ANTONIO ABAD DEL CUSCO",
    "UNIVERSIDAD NACIONAL DEL ALTIPLANO",
    "UNIVERSIDAD NACIONAL DE LA AMAZONÍA PERUANA",
    "PONTIFICIA UNIVERSIDAD CATÓLICA DEL PERÚ",
    "UNIVERSIDAD NACIONAL DE INGENIERÍA",
    "INSTITUTO SUPERIOR TECNOLÓGICO SENATI",
    "UNIVERSIDAD NACIONAL DE TRUJILLO",
    "UNIVERSIDAD NACIONAL DE SAN AGUSTÍN DE AREQUIPA",
)


class RollState:
    """Counters that pace case injection: inject case c while injected[c] < clean * q[c]."""

    def __init__(self, code: str, rule: Rule, rates: Rates, unit: str, rng: random.Random) -> None:
        self.code = code
        self.rule = rule
        applicable = {"deceased", "not_in_pgh"}
        if rule.cse_required:
            applicable |= {"cse_not_qualifying", "cse_expired", "cse_missing"}
        if (
            rule.min_age_years is not None
            or rule.max_age_years is not None
            or rule.max_age_months is not None
            or rule.household_needs_member_under is not None
        ):
            applicable.add("age_out_of_range")
        if rule.incompatible_with:
            applicable.add("incompatible_programs")
        if rule.one_per_household:
            applicable.add("household_twice")
        if unit == "person":
            applicable.add("duplicate_in_program")
        total = sum(rates.case(c) for c in applicable)
        self.q = {c: rates.case(c) / (1.0 - total) for c in CASES if c in applicable}
        self.clean = 0
        self.injected = dict.fromkeys(self.q, 0)
        # A random start per chunk keeps small rolls unbiased: over many chunks the expected
        # number of injected rows is exactly clean * q, with no rounding up or down.
        self.offset = {c: rng.random() for c in self.q}

    def want(self, case: str, rows: int = 1) -> bool:
        """Is this case behind its target share (so `rows` more rows may carry it)?"""
        q = self.q.get(case)
        return q is not None and self.injected[case] + rows <= self.clean * q + self.offset[case]

    def count(self, cases: list[str]) -> None:
        """Account one written row."""
        if not cases:
            self.clean += 1
        for c in cases:
            if c in self.injected:
                self.injected[c] += 1


def level_of(age: int) -> str:
    """School level by age (INI 3-5, PRI 6-11, SEC 12-17; outside ages get the nearest)."""
    return "INI" if age < 6 else ("PRI" if age < 12 else "SEC")


class Enrollment:
    """One planned roll row."""

    __slots__ = ("code", "extra_cases", "person", "second_doc")

    def __init__(self, code: str, person: Person) -> None:
        self.code = code
        self.person = person
        self.extra_cases: list[str] = []
        self.second_doc: str | None = None


class Rolls:
    """Decide and write every roll row of a chunk, household by household."""

    def __init__(
        self,
        *,
        writers: dict[str, RollWriter],
        rates: Rates,
        rng: random.Random,
        cal: Calendar,
        period: str,
        numbering: Numbering,
        names: NameBook,
        chunk: int,
        kill: Callable[[Person, int], None],
    ) -> None:
        self.writers = writers
        self.rates = rates
        self.rng = rng
        self.cal = cal
        self.period = period
        self.periodo = period.replace("-", "")
        self.numbering = numbering
        self.names = names
        self.outside_first = OUTSIDE_BASE + chunk * OUTSIDE_PER_CHUNK
        self.outside_next = 0
        self.vale_next = 0
        self.kill = kill
        self.neighbour_doc = ""  # an adult's DNI in the household processed before
        programs: dict[str, Program] = load_programs()
        self.state = {
            c: RollState(c, rule_for(programs[c], period), rates, programs[c].unit, rng)
            for c in (*PERSON_PROGRAMS, *HOUSEHOLD_PROGRAMS)
        }
        self.p65_incompatible = "CONTIGO" in self.state["PENSION65"].rule.incompatible_with

    # ---- facts -> cases -------------------------------------------------------------------

    def _cse_cases(self, rule: Rule, hh: Household | None, on: int | None = None) -> list[str]:
        """CSE cases on ``on`` (an ordinal; the month's first day unless given)."""
        if not rule.cse_required or hh is None:
            return []
        if not hh.cse:
            return ["cse_missing"]
        if hh.cse not in rule.cse_required:
            return ["cse_not_qualifying"]
        day = self.cal.start if on is None else on
        if rule.cse_must_be_valid and not (hh.cse_ini <= day <= hh.cse_fin):
            return ["cse_expired"]
        return []

    def person_cases(self, code: str, p: Person) -> list[str] | None:
        """Cases a person would carry on this roll; None when they could not be on it at all
        (wrong document kind, no disability for Contigo, age far from the program's)."""
        if p.ti_doc not in ACCEPTED_DOCS[code]:
            return None
        rule = self.state[code].rule
        if rule.requires_severe_disability and not p.disabled:
            return None
        near = NEAR.get(code)
        if near is not None:
            value = p.age_months if code == "CUNAMAS" else p.age
            if not near[0] <= value <= near[1]:
                return None
        # A yearly roll (Beca 18) is judged on its period's first day, January 1, as RNU's
        # rules judge every period (CSE validity, death), not on this month's first day.
        yearly = code in YEARLY_PROGRAMS
        on = date(self.cal.py, 1, 1).toordinal() if yearly else self.cal.start
        cases = self._cse_cases(rule, p.household, on)
        age, age_months = self.cal.ages(p.birth, month=1) if yearly else (p.age, p.age_months)
        if (
            (rule.min_age_years is not None and age < rule.min_age_years)
            or (rule.max_age_years is not None and age >= rule.max_age_years)
            or (rule.max_age_months is not None and age_months >= rule.max_age_months)
        ):
            cases.append("age_out_of_range")
        if p.death and p.death < on:
            cases.append("deceased")
        return cases

    def household_cases(self, code: str, hh: Household, titular: Person) -> list[str]:
        """Cases of a household roll row (CSE, Juntos' child requirement, titular's death)."""
        rule = self.state[code].rule
        cases = self._cse_cases(rule, hh)
        under = rule.household_needs_member_under
        if under is not None and not any(
            m.age < under and not (m.death and m.death < self.cal.start) for m in hh.members
        ):
            cases.append("age_out_of_range")
        if titular.death and titular.death < self.cal.start:
            cases.append("deceased")
        return cases

    # ---- decisions --------------------------------------------------------------------------

    def _coverage(self, code: str, p: Person) -> float:
        if code == "QALIWARMA":
            hh = p.household
            return QALIWARMA_COVERAGE[(level_of(p.age), hh.area if hh else "U")]
        if code == "BECA18" and p.age < 16:
            return 0.0
        return COVERAGE[code]

    def _decide(self, code: str, cases: list[str], coverage: float) -> bool:
        if not cases:
            return self.rng.random() < coverage
        return len(cases) == 1 and self.state[code].want(cases[0])

    def process(self, hh: Household, members: list[Person]) -> list[Person]:
        """Plan and write this household's roll rows; return people killed by injection."""
        plan: list[Enrollment] = []
        by_person: dict[int, list[Enrollment]] = {}
        for p in members:
            mine: list[Enrollment] = []
            for code in PERSON_PROGRAMS:
                cases = self.person_cases(code, p)
                if cases is None or not self._decide(code, cases, self._coverage(code, p)):
                    continue
                mine.append(Enrollment(code, p))
            if mine:
                by_person[id(p)] = mine
                plan.extend(mine)
        for code in HOUSEHOLD_PROGRAMS:
            plan.extend(self._household_plan(code, hh))
        for e in plan:
            by_person.setdefault(id(e.person), [])
            if e.code in HOUSEHOLD_PROGRAMS:
                by_person[id(e.person)].append(e)
        killed = self._inject_deaths(by_person)
        plan = self._incompatible(plan, by_person)
        for e in plan:
            self._write(e, hh)
        for m in hh.members:
            if m.ti_doc == "1" and m.age >= 18:
                self.neighbour_doc = m.doc
                break
        return killed

    def _titulars(self, code: str, hh: Household) -> list[Person]:
        adults = [m for m in hh.members if m.age >= 18 and m.ti_doc == "1"]
        if code == "JUNTOS":  # usually the mother receives Juntos
            adults.sort(key=lambda m: (m.sex != "F", m.parentesco))
        return adults

    def _household_plan(self, code: str, hh: Household) -> list[Enrollment]:
        titulars = self._titulars(code, hh)
        if not titulars:
            return []
        first = titulars[0]
        cases = self.household_cases(code, hh, first)
        state = self.state[code]
        coverage = JUNTOS_COVERAGE.get(hh.cse, 0.0) if code == "JUNTOS" else COVERAGE[code]
        if not self._decide(code, cases, coverage):
            return []
        out = [Enrollment(code, first)]
        if not cases and len(titulars) > 1 and state.want("household_twice", 2):
            second = Enrollment(code, titulars[1])
            out[0].extra_cases.append("household_twice")
            second.extra_cases.append("household_twice")
            out.append(second)
        return out

    def _inject_deaths(self, by_person: dict[int, list[Enrollment]]) -> list[Person]:
        killed = []
        for items in by_person.values():
            if not items:
                continue
            p = items[0].person
            if p.death or p.ti_doc not in ("1", "3"):
                continue
            if any(self.state[e.code].want("deceased") for e in items):
                self.kill(p, self.cal.start - self.rng.randrange(15, 900))
                killed.append(p)
        return killed

    def _incompatible(
        self, plan: list[Enrollment], by_person: dict[int, list[Enrollment]]
    ) -> list[Enrollment]:
        if not self.p65_incompatible:
            return plan
        drop: set[int] = set()
        for items in by_person.values():
            codes = {e.code: e for e in items}
            if "PENSION65" in codes and "CONTIGO" in codes:
                if self.state["PENSION65"].want("incompatible_programs") or self.state[
                    "CONTIGO"
                ].want("incompatible_programs"):
                    codes["PENSION65"].extra_cases.append("incompatible_programs")
                    codes["CONTIGO"].extra_cases.append("incompatible_programs")
                else:
                    drop.add(id(codes["CONTIGO"]))
        return [e for e in plan if id(e) not in drop] if drop else plan

    # ---- rows -------------------------------------------------------------------------------

    def _extra(
        self, code: str, p: Person, district: District, hh: Household | None
    ) -> tuple[str, ...]:
        rng = self.rng
        if code == "SIS":
            start = max(p.birth, self.cal.start - 15 * 365)
            return ("SUBSIDIADO", str(rng.randrange(start, self.cal.start)))
        if code == "QALIWARMA":
            school = (int(district.inei) * 7 + rng.randrange(4)) % 10**7
            return (f"{school:07d}", level_of(p.age))
        if code == "CUNAMAS":
            carer = ""
            if hh is not None:
                for m in hh.members:
                    if m.age >= 18 and m.ti_doc == "1" and m.sex == "F":
                        carer = m.doc
                        break
            servicio = "CUIDADO DIURNO" if rng.random() < 0.4 else "ACOMPAÑAMIENTO A FAMILIAS"
            return (self.period, servicio, carer)
        if code == "CONTIGO":
            grado = "SEVERO, PERMANENTE" if rng.random() < 0.7 else "SEVERO"
            return (f"CONADIS N° {rng.randrange(10**5, 10**6)}-{rng.randrange(2012, 2026)}", grado)
        if code == "PENSION65":
            return (*_place_names(district, rng), MODALIDADES[rng.randrange(len(MODALIDADES))])
        if code == "BECA18":
            prov = district.inei[:4]
            if prov in VRAEM_PROVINCES:
                sheet = "VRAEM"
            elif prov in HUALLAGA_PROVINCES:
                sheet = "HUALLAGA"
            elif rng.random() < 0.06:
                sheet = "REPARED"
            elif district.region == "A" and rng.random() < 0.4:
                sheet = "EIB"
            else:
                sheet = "ORDINARIA"
            return (
                sheet,
                INSTITUCIONES[rng.randrange(len(INSTITUCIONES))],
                CARRERAS[rng.randrange(len(CARRERAS))],
            )
        if code == "JUNTOS":
            assert hh is not None
            cod = (hh.index * 2_718_281 + 31_415) % 10**10
            suspended = rng.random() < 0.03
            return (
                self.periodo,
                f"{cod:010d}",
                "0.00" if suspended else "200.00",
                "SUSPENDIDO" if suspended else "ACTIVO",
            )
        if code == "FISE":
            assert hh is not None
            self.vale_next += 1
            vale = f"V{self.periodo}{(hh.index * 4 + self.vale_next % 4) * 7_777_777 % 10**9:09d}"
            return (vale, f"{rng.randrange(10**7, 10**8)}", str(self.cal.start + rng.randrange(28)))
        raise ValueError(code)

    def _row(self, code: str, p: Person, district: District, hh: Household | None) -> RollRow:
        row = RollRow(
            p.ti_doc,
            p.doc,
            p.paterno,
            p.materno,
            p.nombres,
            p.birth,
            p.sex,
            district.inei,
            self._extra(code, p, district, hh),
        )
        self._context(row, p, hh)
        if code == "QALIWARMA" and row.doc and self.rng.random() < QALIWARMA_NO_DOC:
            row.check = "\x00"  # marker: school never recorded the document (see _blank)
        elif (
            code in ("SIS", "CONTIGO")
            and row.ti_doc in ("1", "3")
            and self.rng.random() < self.rates.check_char_appended
        ):
            digit, letter = check_chars(row.doc)
            row.check = digit if self.rng.random() < 0.8 else letter
        return row

    def _context(self, row: RollRow, p: Person, hh: Household | None) -> None:
        """What the padrón's harsher defects need to know about the person's household."""
        row.adult = p.age >= 20
        row.neighbour_doc = self.neighbour_doc
        row.tags = (p.kin,) if p.kin else ()
        if hh is None or p.household is None:
            return
        if p.parentesco == HIJO and p.age < 18:
            for m in hh.members:
                if m.sex == "F" and m.parentesco in (JEFE, CONYUGE) and m.ti_doc == "1":
                    row.mother_doc = m.doc
                    break
        if p.sex == "F" and row.adult:
            husband = next(
                (m for m in hh.members if m.sex == "M" and m.parentesco in (JEFE, CONYUGE)), None
            )
            if husband is not None and husband is not p and p.parentesco in (JEFE, CONYUGE):
                row.spouse_surname = husband.paterno
            else:
                row.spouse_surname = self.names.surnames[hh.district.region].pick(self.rng)

    def _cases(self, e: Enrollment, hh: Household) -> list[str]:
        if e.code in HOUSEHOLD_PROGRAMS:
            cases = self.household_cases(e.code, hh, e.person)
        else:
            cases = self.person_cases(e.code, e.person) or []
        return cases + e.extra_cases

    def _emit(self, code: str, row: RollRow, key: str, cases: list[str]) -> None:
        forced: tuple[str, ...] = ()
        if row.check == "\x00":  # Qali Warma: the school never captured the document
            row.check = ""
            row.doc = ""
            forced = ("missing_document",)
        self.state[code].count(cases)
        self.writers[code].emit(row, key, cases, forced)

    def _write(self, e: Enrollment, hh: Household) -> None:
        code = e.code
        p = e.person
        state = self.state[code]
        cases = self._cases(e, hh)
        row = self._row(code, p, hh.district, hh)
        if not cases and code in PERSON_PROGRAMS and state.want("duplicate_in_program", 2):
            dup_cases = ["duplicate_in_program"]
            twin = self._row(code, p, hh.district, hh)
            if code in ("SIS", "QALIWARMA", "CUNAMAS") and self.rng.random() < 0.5:
                twin.doc, twin.check, twin.ti_doc = "", "", "0"
            else:
                twin.doc = self.numbering.dni(self._outside())
                twin.check = ""
            self._emit(code, row, p.key, dup_cases)
            self._emit(code, twin, p.key, list(dup_cases))
        else:
            self._emit(code, row, p.key, cases)
        if not cases and state.want("not_in_pgh"):
            self._emit(code, self._stranger(code, hh), "", ["not_in_pgh"])
        if code in PERSON_PROGRAMS and self.rng.random() < self.rates.namesake_trap:
            trap = self._namesake(code, p, hh)
            if trap is not None:
                self.writers[code].emit(trap, "", ["not_in_pgh"])

    def _outside(self) -> int:
        """A fresh person index outside the PGH range, unique across chunks."""
        if self.outside_next >= OUTSIDE_PER_CHUNK:
            raise RuntimeError("too many people outside the PGH in one chunk")
        self.outside_next += 1
        return self.outside_first + self.outside_next - 1

    def _namesake(self, code: str, p: Person, hh: Household) -> RollRow | None:
        """A namesake trap: someone outside the PGH, in the same district, with exactly the
        full name of PGH person `p`, another birth date (3+ years apart) and another DNI."""
        lo, hi = STRANGER_AGES.get(code, (18, 70))
        birth = _namesake_birth(self.rng, self.cal, lo, hi, p.birth)
        if birth is None:
            return None
        twin = Person(None, p.sex, birth, p.paterno, p.materno, p.nombres, "")
        twin.age, twin.age_months = self.cal.ages(birth)
        twin.ti_doc = "3" if twin.age < 18 else "1"
        if code in ACCEPTED_DOCS and twin.ti_doc not in ACCEPTED_DOCS[code]:
            twin.ti_doc = ACCEPTED_DOCS[code][0]
        twin.doc = self.numbering.dni(self._outside())
        row = self._row(code, twin, hh.district, hh)
        row.tags = ("namesake_trap",)
        return row

    def _stranger(self, code: str, hh: Household) -> RollRow:
        """Someone on the roll who is not in the PGH at all."""
        rng = self.rng
        lo, hi = STRANGER_AGES.get(code, (18, 70))
        age = rng.randint(lo, hi)
        sex = "F" if rng.random() < 0.5 else "M"
        birth = self.cal.start - age * 365 - rng.randrange(1, 360)
        region = hh.district.region
        ti_doc = "3" if age < 18 else "1"
        p = Person(
            None,
            sex,
            birth,
            self.names.surnames[region].pick(rng),
            self.names.surnames[region].pick(rng),
            self.names.given_name(rng, sex, self.cal.year(birth)),
            "",
        )
        p.ti_doc = ti_doc
        p.doc = self.numbering.dni(self._outside())
        p.age, p.age_months = self.cal.ages(birth)
        return self._row(code, p, hh.district, hh)


def _namesake_birth(rng: random.Random, cal: Calendar, lo: int, hi: int, birth: int) -> int | None:
    """A birth date in the ages [lo, hi] at least 3 years from `birth`, or None."""
    own = (cal.start - birth) // 365
    ages = [a for a in range(lo, hi + 1) if abs(a - own) >= 3]
    if not ages:
        return None
    age = ages[rng.randrange(len(ages))]
    return cal.start - age * 365 - rng.randrange(1, 360)


def _place_names(district: District, rng: random.Random) -> tuple[str, str, str]:
    """Pensión 65 gives places by name; accents and case vary between data-entry clerks."""
    names = (district.departamento, district.provincia, district.distrito)
    r = rng.random()
    if r < 0.6:
        return tuple(n.upper() for n in names)  # type: ignore[return-value]
    if r < 0.85:
        return tuple(_strip_accents(n).upper() for n in names)  # type: ignore[return-value]
    return names


_ACCENTS = str.maketrans("ÁÉÍÓÚÜáéíóúü", "AEIOUUaeiouu")


def _strip_accents(text: str) -> str:
    return text.translate(_ACCENTS)
