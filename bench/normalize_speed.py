"""Rows per second of the per-row normalisation a loader does: fold, split, document, date.

Run from the repository root: `.venv/bin/python bench/normalize_speed.py [rows] [seed]`.
Synthetic rows mimic sector files: a Juntos-style full name (with accents, Ñ, particles,
some mojibake and '?'), a DNI as text or Excel number (some with check characters or lost
zeros) and a DD/MM/YYYY birth date. Prints figures; asserts nothing.
"""

from __future__ import annotations

import random
import sys
import time

from rnu.normalize import dates, documents, fold, names, parse_date, parse_document, split_full_name
from rnu.normalize.dates import DateError

SURNAMES = (
    "QUISPE MAMANI HUAMÁN FLORES RODRÍGUEZ SÁNCHEZ GARCÍA CHOQUE CONDORI MUÑOZ PEÑA "
    "CCAHUANA TICONA YUPANQUI NÚÑEZ ÁLVAREZ RAMÍREZ TORRES VARGAS CASTILLO MENDOZA "
    "ROJAS CRUZ RÍOS ESPINOZA APAZA CUSI HUILLCA LLANOS"
).split() + ["DE LA CRUZ", "DEL AGUILA", "SAN MARTÍN", "DE LOS RÍOS"]
GIVEN = (
    "JUAN MARÍA JOSÉ ROSA LUIS CARMEN JORGE ANA CARLOS LUZ PEDRO ELENA MIGUEL SOFÍA "
    "WILBER YESENIA FLOR ÑUSTA NILDA ALEJANDRO"
).split() + ["MARÍA DE LOS ÁNGELES"]


def _mangle(name: str, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.05:  # UTF-8 read as cp1252
        return name.encode("utf-8").decode("cp1252", errors="replace")
    if roll < 0.08:  # accents lost to '?'
        return "".join("?" if ord(c) > 127 else c for c in name)
    if roll < 0.20:
        return name.lower()
    return name


def make_rows(n: int, seed: int) -> list[tuple[str, str | int | float, str]]:
    rng = random.Random(seed)
    rows: list[tuple[str, str | int | float, str]] = []
    for _ in range(n):
        name = (
            f"{rng.choice(SURNAMES)} {rng.choice(SURNAMES)}, "
            f"{' '.join(rng.sample(GIVEN, rng.choice((1, 1, 2))))}"
        )
        number = rng.randrange(1_000_000, 80_000_000)
        kind = rng.random()
        document: str | int | float
        if kind < 0.6:
            document = f"{number:08d}"
        elif kind < 0.8:
            document = float(number)  # Excel: leading zeros lost when number < 10_000_000
        elif kind < 0.9:
            document = f"{number:08d}-{rng.choice('0123456789')}"
        else:
            document = ""
        birth = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1930, 2020)}"
        rows.append((_mangle(name, rng), document, birth))
    return rows


def run(rows: list[tuple[str, str | int | float, str]]) -> tuple[float, float, int]:
    """Wall and CPU seconds for all rows; CPU time is steadier on a shared machine."""
    failures = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for name, document, birth in rows:
        fold(name)
        try:
            split_full_name(name, "PATERNO MATERNO, NOMBRES")
        except ValueError:
            failures += 1
        parse_document(document, "DNI")
        try:
            parse_date(birth, ("dmy",))
        except DateError:
            failures += 1
    return time.perf_counter() - wall, time.process_time() - cpu, failures


def _clear_caches() -> None:
    """Empty every lru_cache in rnu.normalize so the first pass starts cold."""
    for module in (dates, documents, names):
        for value in vars(module).values():
            clear = getattr(value, "cache_clear", None)
            if callable(clear):
                clear()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    rows = make_rows(n, seed)
    _clear_caches()
    cold_wall, cold_cpu, failures = run(rows)
    warm_wall, warm_cpu, _ = run(rows)
    print(f"rows: {n:,}  (seed {seed}, {failures} rows raised a ValueError/DateError)")
    print("per row: fold + split_full_name + parse_document + parse_date")
    for label, wall, cpu in (("cold", cold_wall, cold_cpu), ("warm", warm_wall, warm_cpu)):
        print(
            f"{label} caches: {n / cpu:,.0f} rows/s of CPU time ({cpu:.2f} s), "
            f"{n / wall:,.0f} rows/s wall ({wall:.2f} s)"
        )


if __name__ == "__main__":
    main()
