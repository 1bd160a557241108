"""Small sector files written on the fly, in the exact formats of docs/formats.md."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from stdnum.pe import cui

PGH_HEADER = (
    "CO_HOGAR;NU_ORDEN;UBIGEO;AREA;TI_DOC;NU_DOC;AP_PATERNO;AP_MATERNO;NOMBRES;"
    "FE_NACIMIENTO;SEXO;PARENTESCO;CSE;FE_CSE_INICIO;FE_CSE_FIN"
)
SIS_HEADER = (
    "TIPO_DOC,NUM_DOC,APE_PAT,APE_MAT,NOMBRES,FEC_NAC,SEXO,UBIGEO_ADSCRIPCION,REGIMEN,"
    "FEC_AFILIACION"
)


@dataclass(frozen=True)
class Member:
    household: str
    order: int
    dni: str
    paterno: str
    materno: str
    nombres: str
    born: date
    sex: str
    ubigeo: str = "150101"
    cse: str = "P"

    @property
    def key(self) -> str:
        return f"{self.household}-{self.order}"

    def pgh_line(self) -> str:
        return ";".join(
            [
                self.household,
                str(self.order),
                self.ubigeo,
                "U",
                "1" if self.dni else "0",
                self.dni,
                self.paterno,
                self.materno,
                self.nombres,
                self.born.isoformat(),
                self.sex,
                "1" if self.order == 1 else "3",
                self.cse,
                "2025-01-01",
                "2028-01-01",
            ]
        )

    def sis_line(self, *, dni: str | None = None, **override: str) -> str:
        fields = {
            "TIPO_DOC": "1",
            "NUM_DOC": self.dni if dni is None else dni,
            "APE_PAT": self.paterno,
            "APE_MAT": self.materno,
            "NOMBRES": self.nombres,
            "FEC_NAC": self.born.isoformat(),
            "SEXO": self.sex,
            "UBIGEO_ADSCRIPCION": self.ubigeo,
            "REGIMEN": "SUBSIDIADO",
            "FEC_AFILIACION": "2020-01-15",
        }
        fields.update(override)
        return ",".join(fields[c] for c in SIS_HEADER.split(","))


def valid_dni(n: int) -> str:
    number = f"{n:08d}"
    assert cui.is_valid(number + cui.calc_check_digits(number)[0])
    return number


SURNAMES = [
    "QUISPE", "FLORES", "SÁNCHEZ", "RODRÍGUEZ", "HUAMÁN", "MAMANI", "ROJAS", "CHÁVEZ",
    "RAMOS", "TORRES", "DÍAZ", "MENDOZA", "VÁSQUEZ", "CASTILLO", "LÓPEZ", "GONZALES",
    "PÉREZ", "CRUZ", "CONDORI", "TICONA", "YUPANQUI", "NÚÑEZ", "MUÑOZ", "DE LA CRUZ",
    "DEL ÁGUILA", "CCAHUANA", "ÑAUPARI", "CHOQUEHUANCA", "GUTIÉRREZ", "ESPINOZA",
]  # fmt: skip
GIVEN = [
    ("JUAN CARLOS", "M"), ("ROSA MARÍA", "F"), ("PEDRO", "M"), ("ANA LUCÍA", "F"),
    ("JOSÉ LUIS", "M"), ("MARÍA DEL CARMEN", "F"), ("WILMER", "M"), ("YOLANDA", "F"),
    ("LUIS ALBERTO", "M"), ("ELIZABETH", "F"), ("CÉSAR", "M"), ("NANCY", "F"),
]  # fmt: skip
SECOND = ["", "ALEXANDER", "BEATRIZ", "ERNESTO", "SOFÍA", "MIGUEL", "RUTH", "ÁNGEL"]


def population(prefix: str, households: int, *, start: int = 40_000_000) -> list[Member]:
    """Households of three with distinct, plausible people (deterministic)."""
    people = []
    for h in range(households):
        code = f"{prefix}{h:06d}"
        for order in range(1, 4):
            i = h * 3 + order
            given, sex = GIVEN[i % len(GIVEN)]
            people.append(
                Member(
                    household=code,
                    order=order,
                    dni=valid_dni(start + i),
                    paterno=SURNAMES[h % len(SURNAMES)],
                    materno=SURNAMES[(h // len(SURNAMES) + order) % len(SURNAMES)],
                    nombres=f"{given} {SECOND[(i // len(GIVEN)) % len(SECOND)]}".strip(),
                    born=date(1940, 1, 1) + timedelta(days=(i * 7919) % 27_000),
                    sex=sex,
                )
            )
    return people


def write_pgh(path: Path, members: list[Member], extra_lines: tuple[str, ...] = ()) -> Path:
    lines = [PGH_HEADER, *(m.pgh_line() for m in members), *extra_lines]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_sis(path: Path, lines: list[str]) -> Path:
    with gzip.open(path, "wt", encoding="utf-8", newline="") as fh:
        fh.write(SIS_HEADER + "\n")
        for line in lines:
            fh.write(line + "\n")
    return path
