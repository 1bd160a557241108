"""A small synthetic PGH for the matching tests: households sharing surnames and district."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from random import Random

from rnu.matching.records import PersonRecord

SURNAMES = (
    ["QUISPE"] * 6
    + ["MAMANI"] * 3
    + ["FLORES"] * 3
    + "SANCHEZ RODRIGUEZ GARCIA HUAMAN ROJAS CHAVEZ RAMOS TORRES VASQUEZ DIAZ MENDOZA CASTILLO "
    "ESPINOZA LOPEZ GUTIERREZ CRUZ RAMIREZ PEREZ GONZALES TAPIA CONDORI HUAMANI APAZA MAYTA "
    "CHOQUE TICONA VARGAS MORALES SALAZAR ALVAREZ HERRERA MEDINA CARDENAS PALOMINO CHAMBI "
    "HUANCA CALLA VILCA CUSI AGUILAR YUPANQUI PUMA CCOPA LLANOS OBLITAS SUCA PARI CCAMA".split()
)
GIVEN = (
    "MARIA ROSA JUANA ANA CARMEN ELENA LUZ MARINA GLADYS YOLANDA LUCIA DELIA NANCY SONIA "
    "JOSE JUAN LUIS CARLOS JORGE VICTOR CESAR MIGUEL PEDRO MARIO JULIO FREDY EDWIN WILBER"
).split()


def make_people(n: int, seed: int = 1) -> list[PersonRecord]:
    """``n`` PGH people with DNIs 10000000 upwards (every other number)."""
    rnd = Random(seed)
    out: list[PersonRecord] = []
    h = 0
    while len(out) < n:
        pat, mat = rnd.choice(SURNAMES), rnd.choice(SURNAMES)
        ubigeo = f"{rnd.randint(1, 25):02d}{rnd.randint(1, 5):02d}{rnd.randint(1, 9):02d}"
        for member in range(rnd.randint(1, 5)):
            given = rnd.choice(GIVEN) + ("" if rnd.random() < 0.6 else " " + rnd.choice(GIVEN))
            out.append(
                PersonRecord(
                    key=f"S{h:05d}-{member + 1}",
                    doc_type="DNI",
                    doc_number=f"{10_000_000 + 2 * len(out):08d}",
                    doc_trusted=True,
                    nombres=given,
                    apellido_paterno=pat if member != 1 else rnd.choice(SURNAMES),
                    apellido_materno=mat if member != 1 else rnd.choice(SURNAMES),
                    birth_date=date(1940, 1, 1) + timedelta(days=rnd.randint(0, 30_000)),
                    sex=rnd.choice("MF"),
                    ubigeo=ubigeo,
                )
            )
        h += 1
    return out[:n]


def noisy_sample(people: list[PersonRecord], n: int, seed: int = 2) -> list[PersonRecord]:
    """Sector-style copies: some without document, some with one defect."""
    rnd = Random(seed)
    out = []
    for rec in rnd.sample(people, n):
        roll = rnd.random()
        if roll < 0.15 and rec.apellido_materno:
            rec = replace(
                rec, apellido_paterno=rec.apellido_materno, apellido_materno=rec.apellido_paterno
            )
        elif roll < 0.3:
            rec = replace(rec, apellido_materno=None)
        elif roll < 0.45 and rec.birth_date is not None:
            rec = replace(rec, birth_date=rec.birth_date + timedelta(days=1))
        elif roll < 0.6:
            rec = replace(rec, nombres=(rec.nombres or "")[:-1] + "X")
        elif roll < 0.7:
            rec = replace(rec, apellido_paterno=(rec.apellido_paterno or "")[:-1] + "Y")
        if rnd.random() < 0.5:
            rec = replace(rec, doc_type=None, doc_number=None, doc_trusted=False)
        out.append(replace(rec, key=f"Q-{rec.key}"))
    return out
