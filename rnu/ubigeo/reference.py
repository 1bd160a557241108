"""Peru's districts: INEI and RENIEC ubigeo codes, official names, and resolution of written names.

The data is the packaged `data/ubigeo.csv` (INEI list, one row per district, with the RENIEC code
when known) and `data/aliases.csv` (other spellings); see `data/SOURCE.md`. Both are read once.
INEI codes are the registry's canonical ubigeo; RENIEC numbers departments differently
(INEI 150101 Lima is RENIEC 140101; RENIEC 150101 is Iquitos, INEI 160101).
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from rnu.errors import NotFound

__all__ = [
    "District",
    "by_inei",
    "department_name",
    "departments",
    "districts",
    "districts_of",
    "fold",
    "inei_from_reniec",
    "province_name",
    "provinces",
    "reniec_from_inei",
    "resolve",
]


@dataclass(frozen=True, slots=True)
class District:
    """One district; `reniec` is None for districts newer than the RENIEC list we ship."""

    inei: str
    reniec: str | None
    departamento: str
    provincia: str
    distrito: str


_NOT_ALNUM = re.compile(r"[^A-Z0-9 ]+")


def fold(text: str) -> str:
    """Upper-case, strip accents (Á→A, Ü→U, Ñ→N), turn punctuation into spaces, collapse spaces.

    So `HUÁNUCO`, `Huanuco` and ` huanuco ` compare equal, and `PROV. CONST. DEL CALLAO`
    becomes `PROV CONST DEL CALLAO`.
    """
    if text.isascii():
        upper = text.upper()
    else:
        decomposed = unicodedata.normalize("NFKD", text)
        upper = "".join(c for c in decomposed if not unicodedata.combining(c)).upper()
    return " ".join(_NOT_ALNUM.sub(" ", upper).split())


def _read_csv(name: str) -> Iterator[dict[str, str]]:
    text = resources.files("rnu.ubigeo").joinpath("data", name).read_text(encoding="utf-8")
    yield from csv.DictReader(text.splitlines())


@lru_cache(maxsize=1)
def districts() -> tuple[District, ...]:
    """Every district, ordered by INEI code."""
    return tuple(
        District(
            inei=row["inei"],
            reniec=row["reniec"] or None,
            departamento=row["departamento"],
            provincia=row["provincia"],
            distrito=row["distrito"],
        )
        for row in _read_csv("ubigeo.csv")
    )


@lru_cache(maxsize=1)
def _by_inei() -> dict[str, District]:
    return {d.inei: d for d in districts()}


@lru_cache(maxsize=1)
def _reniec_to_inei() -> dict[str, str]:
    return {d.reniec: d.inei for d in districts() if d.reniec}


def by_inei(code: str) -> District | None:
    """The district with this 6-digit INEI code, or None."""
    return _by_inei().get(code.strip())


def reniec_from_inei(code: str) -> str | None:
    """RENIEC's code for the district INEI numbers `code` (None if unknown or not in RENIEC)."""
    district = _by_inei().get(code.strip())
    return district.reniec if district else None


def inei_from_reniec(code: str) -> str | None:
    """INEI's code for the district RENIEC numbers `code`, or None."""
    return _reniec_to_inei().get(code.strip())


def department_name(code2: str) -> str:
    """Official name of a department by its 2-digit INEI code; NotFound if there is none."""
    name = _departments().get(code2)
    if name is None:
        raise NotFound(f"no department with INEI code {code2!r}")
    return name


def province_name(code4: str) -> str:
    """Official name of a province by its 4-digit INEI code; NotFound if there is none."""
    name = _provinces().get(code4)
    if name is None:
        raise NotFound(f"no province with INEI code {code4!r}")
    return name


@lru_cache(maxsize=1)
def _departments() -> dict[str, str]:
    return {d.inei[:2]: d.departamento for d in districts()}


@lru_cache(maxsize=1)
def _provinces() -> dict[str, str]:
    return {d.inei[:4]: d.provincia for d in districts()}


def departments() -> list[tuple[str, str]]:
    """(code2, name) of the 25 departments, Callao included, by code."""
    return list(_departments().items())


def provinces(dep: str) -> list[tuple[str, str]]:
    """(code4, name) of a department's provinces by code; empty for an unknown department."""
    return [(code, name) for code, name in _provinces().items() if code[:2] == dep]


def districts_of(prov: str) -> list[District]:
    """A province's districts by code; empty for an unknown province."""
    return [d for d in districts() if d.inei[:4] == prov]


# --- Resolving names -------------------------------------------------------------------------

# Marks a name that fits two places in the same scope: it resolves to nothing.
_AMBIGUOUS = ""

# Ways files name departments that are not the INEI name (values are INEI codes). "LIMA" also
# covers Callao: files often group Lima Metropolitana and Callao; the two share no district names
# that would make this ambiguous, and a clash would still give None.
_DEPARTMENT_ALIASES: dict[str, tuple[str, ...]] = {
    "LIMA": ("15", "07"),
    "LIMA METROPOLITANA": ("15", "07"),
    "LIMA REGION": ("15",),
    "LIMA PROVINCIAS": ("15",),
    "REGION LIMA": ("15",),
    "PROV CONST DEL CALLAO": ("07",),
    "PROVINCIA CONSTITUCIONAL DEL CALLAO": ("07",),
    "CUZCO": ("08",),
}
_PROVINCE_ALIASES: dict[str, dict[str, str]] = {
    "07": {"PROV CONST DEL CALLAO": "0701", "PROVINCIA CONSTITUCIONAL DEL CALLAO": "0701"},
    "08": {"CUZCO": "0801"},
    "15": {"LIMA METROPOLITANA": "1501"},
}
_DEPARTMENT_PREFIX = re.compile(r"^(?:DEPARTAMENTO|DPTO|DEP|REGION|GOBIERNO REGIONAL)(?: DE)? ")
_PROVINCE_PREFIX = re.compile(r"^(?:PROVINCIA|PROV)(?: DE)? ")
_DISTRICT_PREFIX = re.compile(r"^(?:DISTRITO|DIST)(?: DE)? ")
# "CERCADO", "CERCADO DE AREQUIPA": the province's capital district, always code4 + "01".
_CERCADO = re.compile(r"^CERCADO(?: DE .+)?$")
# Mojibake of UTF-8 read as Latin-1/cp1252 ("HUÃ\x81NUCO", "JunÃ­n"), and lost characters.
_MOJIBAKE = re.compile("[\u00c3\u00c2].?")
_WILDCARD_RUN = re.compile(r"\?+")


@dataclass(frozen=True, slots=True)
class _Index:
    department: dict[str, tuple[str, ...]]  # folded name → INEI code2 candidates
    province: dict[str, dict[str, str]]  # code2 → folded name → code4 (or _AMBIGUOUS)
    district_in_province: dict[str, dict[str, str]]  # code4 → folded name → code6
    district_in_department: dict[str, dict[str, str]]  # code2 → folded name → code6


def _put(table: dict[str, str], name: str, code: str) -> None:
    """Add a name, marking it ambiguous if it already points elsewhere."""
    previous = table.get(name)
    table[name] = code if previous in (None, code) else _AMBIGUOUS


@lru_cache(maxsize=1)
def _index() -> _Index:
    department: dict[str, tuple[str, ...]] = {}
    province: dict[str, dict[str, str]] = {}
    in_province: dict[str, dict[str, str]] = {}
    in_department: dict[str, dict[str, str]] = {}

    for d in districts():
        code2, code4 = d.inei[:2], d.inei[:4]
        department[fold(d.departamento)] = (code2,)
        _put(province.setdefault(code2, {}), fold(d.provincia), code4)
        _put(in_province.setdefault(code4, {}), fold(d.distrito), d.inei)
        _put(in_department.setdefault(code2, {}), fold(d.distrito), d.inei)
    for name, codes in _DEPARTMENT_ALIASES.items():
        department[name] = codes
    for code2, names in _PROVINCE_ALIASES.items():
        for name, code4 in names.items():
            province[code2].setdefault(name, code4)

    # Official names win over aliases: only names not already taken in their scope are added,
    # and an alias that two districts claim becomes ambiguous.
    official_provinces = {code2: set(names) for code2, names in province.items()}
    official_in_province = {code4: set(names) for code4, names in in_province.items()}
    official_in_department = {code2: set(names) for code2, names in in_department.items()}
    aliases = list(_read_csv("aliases.csv"))
    for row in aliases:
        code = row["inei"]
        name = fold(row["provincia"])
        if name not in official_provinces[code[:2]]:
            _put(province[code[:2]], name, code[:4])
    for row in aliases:
        code = row["inei"]
        code2 = code[:2]
        name = fold(row["distrito"])
        # A district that moved province is filed under the province the alias names.
        alias_province = province[code2].get(fold(row["provincia"])) or code[:4]
        for code4 in {code[:4], alias_province}:
            if name not in official_in_province[code4]:
                _put(in_province[code4], name, code)
        if name not in official_in_department[code2]:
            _put(in_department[code2], name, code)
    return _Index(department, province, in_province, in_department)


def _repair(text: str) -> str:
    """Undo the usual mojibake, or turn what cannot be undone into '?' wildcards."""
    if "\u00c3" in text or "\u00c2" in text:
        for encoding in ("cp1252", "latin-1"):
            try:
                return text.encode(encoding).decode("utf-8")
            except UnicodeError:
                continue
        text = _MOJIBAKE.sub("?", text)
    return text.replace("\ufffd", "?")


def _lookup(table: dict[str, str], raw: str, prefix: re.Pattern[str] | None = None) -> str | None:
    """Code for a written name in one scope: exact folded match, else '?' as 1–2 lost letters."""
    name = fold(raw)
    if prefix is not None and name not in table:
        name = prefix.sub("", name)
    code = table.get(name)
    if code is not None:
        return code or None
    if "?" not in raw:
        return None
    parts = [re.escape(fold(part)) for part in _WILDCARD_RUN.split(raw)]
    pattern = re.compile(r"[A-Z0-9 ]{1,2}".join(parts))
    matches = {c for n, c in table.items() if pattern.fullmatch(n)}
    if len(matches) != 1:
        return None
    return matches.pop() or None


def _department_candidates(index: _Index, raw: str) -> Iterable[str]:
    name = fold(raw)
    if not name:
        return sorted(index.province)  # unknown department: search the whole country
    codes = index.department.get(name) or index.department.get(_DEPARTMENT_PREFIX.sub("", name))
    if codes:
        return codes
    if "?" in raw:
        flat = {n: "".join(c) for n, c in index.department.items() if len(c) == 1}
        code = _lookup(flat, raw)
        return (code,) if code else ()
    return ()


def _in_department(index: _Index, code2: str, provincia: str, distrito: str) -> str | None:
    code4 = _lookup(index.province[code2], provincia, _PROVINCE_PREFIX) if provincia else None
    if code4 is not None:
        code = _lookup(index.district_in_province[code4], distrito, _DISTRICT_PREFIX)
        if code is None and _CERCADO.match(fold(distrito)) and code4 + "01" in _by_inei():
            return code4 + "01"
        return code
    # No province, or one we cannot read: the district name must be unique in the department.
    return _lookup(index.district_in_department[code2], distrito, _DISTRICT_PREFIX)


@lru_cache(maxsize=131_072)
def _resolve(departamento: str, provincia: str, distrito: str) -> str | None:
    index = _index()
    departamento, provincia, distrito = (
        _repair(departamento),
        _repair(provincia),
        _repair(distrito),
    )
    if not fold(distrito):
        return None
    found = {
        code
        for code2 in _department_candidates(index, departamento)
        if (code := _in_department(index, code2, provincia, distrito)) is not None
    }
    return found.pop() if len(found) == 1 else None


def resolve(departamento: str, provincia: str | None, distrito: str) -> str | None:
    """INEI code of the district named by these names, or None when unknown or ambiguous.

    Tolerates accents, case and spacing (`HUÁNUCO` == ` huanuco `), former and variant names
    (`NAZCA`, `PROV. CONST. DEL CALLAO`, `LIMA METROPOLITANA`, `CERCADO DE LIMA`), mojibake and
    `?` for lost letters when that still leaves one candidate. Without a province (or with one
    it cannot read) the district must be unique in its department. Results are cached, because
    the same few thousand names repeat across files of hundreds of thousands of rows.
    """
    return _resolve(departamento or "", provincia or "", distrito or "")
