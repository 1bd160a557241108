"""Districts of Peru with plausible population weights and urban shares."""

from __future__ import annotations

import csv
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rnu.synth.names import REGION_OF_DEPARTMENT

UBIGEO_CSV = Path(__file__).resolve().parent.parent / "ubigeo" / "data" / "ubigeo.csv"

# Provinces of the VRAEM and Alto Huallaga valleys (Beca 18 has special modalities for them).
VRAEM_PROVINCES = frozenset({"0504", "0505", "0809", "1206", "0907"})
HUALLAGA_PROVINCES = frozenset({"1006", "2210", "2206", "1009"})


@dataclass(frozen=True, slots=True)
class District:
    """One district as the generator needs it."""

    inei: str
    departamento: str
    provincia: str
    distrito: str
    weight: float
    urban_share: float
    region: str


def _weight_and_urban(inei: str) -> tuple[float, float]:
    """Approximate population (thousands) and urban share from the kind of district.

    Metropolitan Lima and Callao hold a third of Peru; the first district of a department's
    first province is its capital; other province capitals are towns; the rest is small and
    mostly rural. A stable pseudo-random factor from the code keeps neighbours unequal.
    """
    dep, prov, dist = inei[:2], inei[2:4], inei[4:]
    jitter = 0.4 + 1.2 * (zlib.crc32(inei.encode()) % 1000) / 1000
    if dep == "15" and prov == "01":
        return 220.0 * jitter, 1.0
    if dep == "07":
        return 150.0 * jitter, 1.0
    if prov == "01" and dist == "01":
        return 260.0 * jitter, 0.95
    if prov == "01":
        return 22.0 * jitter, 0.7
    if dist == "01":
        return 25.0 * jitter, 0.6
    return 5.5 * jitter, 0.2


@lru_cache(maxsize=2)
def load_districts(path: Path = UBIGEO_CSV) -> tuple[District, ...]:
    """Read the packaged ubigeo reference (INEI codes) and weight each district."""
    out = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            weight, urban = _weight_and_urban(row["inei"])
            out.append(
                District(
                    inei=row["inei"],
                    departamento=row["departamento"],
                    provincia=row["provincia"],
                    distrito=row["distrito"],
                    weight=weight,
                    urban_share=urban,
                    region=REGION_OF_DEPARTMENT.get(row["inei"][:2], "C"),
                )
            )
    return tuple(out)
