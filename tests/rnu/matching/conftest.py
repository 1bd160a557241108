"""Shared fixtures: a synthetic PGH with hand-made hard cases, its index and fitted model."""

from __future__ import annotations

from datetime import date

import pytest

from rnu.matching.calibrate import fit
from rnu.matching.engine import Matcher, Thresholds
from rnu.matching.index import PghIndex
from rnu.matching.records import PersonRecord
from rnu.matching.scoring import MatchModel
from tests.rnu.matching.synthetic import make_people, noisy_sample


def person(
    key: str,
    nombres: str | None,
    paterno: str,
    materno: str | None,
    born: date | None,
    *,
    dni: str | None = None,
    sex: str | None = "M",
    ubigeo: str | None = "150101",
    trusted: bool = True,
) -> PersonRecord:
    """A record with a DNI (or none), in the field order people say names aloud."""
    return PersonRecord(
        key=key,
        doc_type="DNI" if dni else None,
        doc_number=dni,
        doc_trusted=trusted and dni is not None,
        nombres=nombres,
        apellido_paterno=paterno,
        apellido_materno=materno,
        birth_date=born,
        sex=sex,
        ubigeo=ubigeo,
    )


HARD: list[PersonRecord] = [
    person("P-CRUZ", "JUAN CARLOS", "DE LA CRUZ", "HUAMAN", date(1980, 5, 12), dni="40000001"),
    # twins: same surnames, birth date, sex and district; different given names
    person(
        "P-TWIN-A",
        "MARIA ELENA",
        "ZEVALLOS",
        "ARCE",
        date(2001, 3, 3),
        dni="40000002",
        sex="F",
        ubigeo="080101",
    ),
    person(
        "P-TWIN-B",
        "MARIA LUISA",
        "ZEVALLOS",
        "ARCE",
        date(2001, 3, 3),
        dni="40000003",
        sex="F",
        ubigeo="080101",
    ),
    # father and son: the son borrows the father's DNI
    person(
        "P-FATHER",
        "PEDRO",
        "CCORIMANYA",
        "APAZA",
        date(1960, 1, 9),
        dni="47000004",
        ubigeo="210101",
    ),
    person(
        "P-SON",
        "LUIS ALBERTO",
        "CCORIMANYA",
        "TICONA",
        date(1995, 7, 20),
        dni="40000005",
        ubigeo="210101",
    ),
    person(
        "P-STRANGER",
        "WALTER",
        "OBANDO",
        "LINARES",
        date(1971, 2, 2),
        dni="40000006",
        ubigeo="130101",
    ),
    person(
        "P-TRANSPOSED",
        "GLADYS",
        "PARIONA",
        "YUCRA",
        date(1988, 11, 23),
        dni="41234567",
        sex="F",
        ubigeo="050101",
    ),
    person(
        "P-HUAMAN",
        "FELICIANO",
        "HUAMÁN",
        "QQUECCAÑO",
        date(1955, 8, 15),
        dni="40000008",
        ubigeo="080601",
    ),
    person(
        "P-NUNEZ",
        "ÑUSTA",
        "NÚÑEZ",
        "PEÑA",
        date(1999, 4, 30),
        dni="40000009",
        sex="F",
        ubigeo="040101",
    ),
    person(
        "P-DATE",
        "ROSALIA",
        "SIHUINCHA",
        "ATAUCUSI",
        date(1977, 3, 9),
        dni="40000010",
        sex="F",
        ubigeo="050301",
    ),
]
BY_KEY = {p.key: p for p in HARD}


@pytest.fixture(scope="session")
def pgh() -> list[PersonRecord]:
    return make_people(5_000) + HARD


@pytest.fixture(scope="session")
def index(pgh: list[PersonRecord]) -> PghIndex:
    return PghIndex.build(pgh)


@pytest.fixture(scope="session")
def fitted(index: PghIndex, pgh: list[PersonRecord]) -> tuple[MatchModel, Thresholds]:
    return fit(index, noisy_sample(pgh[:5_000], 2_000), random_pairs=100_000)


@pytest.fixture(scope="session")
def matcher(index: PghIndex, fitted: tuple[MatchModel, Thresholds]) -> Matcher:
    model, thresholds = fitted
    return Matcher(index, model, thresholds)
