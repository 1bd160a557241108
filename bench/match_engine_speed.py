"""Speed and quality of the matching engine against a synthetic 1M-person PGH.

Usage: .venv/bin/python bench/match_engine_speed.py [--people 1000000] [--queries 100000]

Prints index build time and rate, peak RSS, records/s through ``Matcher.match_many`` on the
exact-document path and on the fuzzy path (documents removed), and precision/recall of the
fuzzy path on records with injected defects (the truth is known here).
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rnu.matching.calibrate import fit
from rnu.matching.engine import Matcher
from rnu.matching.index import PghIndex
from rnu.matching.records import PersonRecord

# Share of people per surname, roughly as in RENIEC counts (QUISPE ~3%); the rest of the mass
# goes to a long tail of generated surnames so blocks are as skewed as in the real PGH.
TOP_SURNAMES = {
    "QUISPE": 3.0, "FLORES": 1.5, "SANCHEZ": 1.2, "RODRIGUEZ": 1.1, "GARCIA": 1.0,
    "HUAMAN": 1.0, "MAMANI": 1.3, "ROJAS": 1.0, "CHAVEZ": 0.9, "RAMOS": 0.9, "TORRES": 0.9,
    "VASQUEZ": 0.8, "DIAZ": 0.8, "MENDOZA": 0.8, "CASTILLO": 0.7, "ESPINOZA": 0.7,
    "LOPEZ": 0.7, "GUTIERREZ": 0.6, "CRUZ": 0.6, "RAMIREZ": 0.6, "PEREZ": 0.6,
    "GONZALES": 0.6, "TAPIA": 0.4, "CONDORI": 0.6, "CCAHUANA": 0.2, "HUAMANI": 0.4,
    "APAZA": 0.3, "MAYTA": 0.2, "CHOQUE": 0.4, "TICONA": 0.2, "VARGAS": 0.5, "MORALES": 0.5,
    "DE LA CRUZ": 0.3, "CCOPA": 0.1, "PUMA": 0.2, "YUPANQUI": 0.2, "SALAZAR": 0.4,
    "ALVAREZ": 0.4, "HERRERA": 0.4, "MEDINA": 0.4, "CARDENAS": 0.3, "PALOMINO": 0.2,
    "CHAMBI": 0.1, "HUANCA": 0.3, "CALLA": 0.1, "VILCA": 0.3, "CUSI": 0.1, "AGUILAR": 0.4,
}  # fmt: skip
GIVEN_F = (
    "MARIA ROSA JUANA ANA CARMEN ROSA ELENA LUZ MARINA GLADYS ELIZABETH YOLANDA LUCIA DELIA "
    "NANCY SONIA MARLENI YESENIA FLOR NELLY JULIA VILMA MARTHA CARMEN ROSA SILVIA KATHERINE"
).split()
GIVEN_M = (
    "JOSE JUAN LUIS CARLOS JORGE VICTOR CESAR MIGUEL PEDRO MARIO JULIO FREDY EDWIN WILBER "
    "ALEX RONALD HUGO RAUL WALTER DAVID JESUS ANGEL ELMER NILTON PERCY JHON EDGAR RUBEN"
).split()
SYLLABLES = (
    "QUI PE MA NI HUA CA CHA PA TA YU PAN QUE LLA CU SI RO SA LA VI MO RE NA TO GO CON DO RI"
).split()


def _tail_surnames(rng: np.random.Generator, n: int) -> list[str]:
    seen: set[str] = set(TOP_SURNAMES)
    out: list[str] = []
    while len(out) < n:
        word = "".join(rng.choice(SYLLABLES, size=rng.integers(2, 4)))
        if word not in seen:
            seen.add(word)
            out.append(word)
    return out


def make_pgh(n: int, seed: int = 7) -> list[PersonRecord]:
    """Households of 1-6 people sharing surnames and district, with realistic skew."""
    rng = np.random.default_rng(seed)
    tail = _tail_surnames(rng, 20_000)
    top_share = sum(TOP_SURNAMES.values()) / 100
    tail_w = 1.0 / np.arange(1, len(tail) + 1) ** 0.9
    tail_w *= (1 - top_share) / tail_w.sum()
    surnames = np.array(list(TOP_SURNAMES) + tail, dtype=object)
    weights = np.concatenate([np.array(list(TOP_SURNAMES.values())) / 100, tail_w])
    weights /= weights.sum()
    n_households = n // 3 + 1
    fathers = rng.choice(surnames, size=n_households, p=weights)
    mothers = rng.choice(surnames, size=n_households, p=weights)
    fathers_m = rng.choice(surnames, size=n_households, p=weights)
    mothers_m = rng.choice(surnames, size=n_households, p=weights)
    districts = [
        f"{d:02d}{p:02d}{x:02d}" for d in range(1, 26) for p in range(1, 8) for x in range(1, 12)
    ]
    ubigeos = rng.choice(np.array(districts, dtype=object), size=n_households)
    start = date(1930, 1, 1).toordinal()
    span = date(2024, 12, 31).toordinal() - start
    out: list[PersonRecord] = []
    dni = 10_000_000
    h = 0
    while len(out) < n:
        size = int(rng.integers(1, 7))
        for member in range(size):
            if len(out) >= n:
                break
            female = bool(rng.integers(0, 2))
            pool = GIVEN_F if female else GIVEN_M
            given = str(rng.choice(pool))
            if rng.random() < 0.4:
                given += " " + str(rng.choice(pool))
            if member < 2:  # the couple
                pat = str(fathers[h] if member == 0 else mothers[h])
                mat = str(fathers_m[h] if member == 0 else mothers_m[h])
            else:
                pat, mat = str(fathers[h]), str(mothers[h])
            dni += int(rng.integers(1, 30))
            out.append(
                PersonRecord(
                    key=f"H{h:07d}-{member + 1}",
                    doc_type="DNI",
                    doc_number=f"{dni % 100_000_000:08d}",
                    doc_trusted=True,
                    nombres=given,
                    apellido_paterno=pat,
                    apellido_materno=mat if rng.random() > 0.01 else None,
                    birth_date=date.fromordinal(start + int(rng.integers(0, span))),
                    sex="F" if female else "M",
                    ubigeo=str(ubigeos[h]),
                )
            )
        h += 1
    return out


def _typo(text: str, rng: np.random.Generator) -> str:
    if len(text) < 3:
        return text
    i = int(rng.integers(1, len(text) - 1))
    return text[:i] + str(rng.choice(list("AEIOUNRSL"))) + text[i + 1 :]


def add_defects(rec: PersonRecord, rng: np.random.Generator) -> tuple[PersonRecord, str]:
    """A sector's copy of a PGH person with one injected defect (name, date or document)."""
    kind = str(
        rng.choice(["none", "typo", "swapped", "missing_materno", "dob_swap", "dob_typo", "no_sex"])
    )
    if kind == "typo":
        rec = replace(rec, nombres=_typo(rec.nombres or "", rng))
    elif kind == "swapped" and rec.apellido_materno:
        rec = replace(
            rec, apellido_paterno=rec.apellido_materno, apellido_materno=rec.apellido_paterno
        )
    elif kind == "missing_materno":
        rec = replace(rec, apellido_materno=None)
    elif kind == "dob_swap" and rec.birth_date and rec.birth_date.day <= 12:
        bd = rec.birth_date
        rec = replace(rec, birth_date=date(bd.year, bd.day, bd.month))
    elif kind == "dob_typo" and rec.birth_date:
        rec = replace(rec, birth_date=rec.birth_date + timedelta(days=int(rng.choice([1, 10]))))
    elif kind == "no_sex":
        rec = replace(rec, sex=None)
    return rec, kind


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=100_000)
    args = parser.parse_args()
    rng = np.random.default_rng(11)

    t0 = time.perf_counter()
    pgh = make_pgh(args.people)
    print(f"generated {len(pgh):,} PGH people in {time.perf_counter() - t0:.1f}s")
    rss_before = _rss_mb()
    t0 = time.perf_counter()
    index = PghIndex.build(pgh)
    build = time.perf_counter() - t0
    print(
        f"index build: {build:.2f}s = {len(pgh) / build:,.0f} records/s; "
        f"numpy arrays {index.memory_bytes() / 2**20:.0f} MB; "
        f"RSS grew {_rss_mb() - rss_before:.0f} MB; dropped blocks "
        + ", ".join(f"{k}={b.dropped}" for k, b in index.blocks.items())
    )

    picks = rng.choice(len(pgh), size=args.queries, replace=False)
    noisy = [add_defects(pgh[i], rng) for i in picks]
    truth = [pgh[i].key for i in picks]
    t0 = time.perf_counter()
    model, thresholds = fit(index, [rec for rec, _ in noisy[:20_000]])
    print(
        f"fit: {time.perf_counter() - t0:.2f}s; upper {thresholds.upper:.2f} "
        f"lower {thresholds.lower:.2f} margin {thresholds.margin:.2f} prior {model.prior:.4f}"
    )
    matcher = Matcher(index, model, thresholds)

    exact = [pgh[i] for i in picks]
    # a loading process does not keep the PGH as objects: drop them so the cyclic GC does not
    # walk a million records on every collection, and freeze what stays (index, queries)
    del pgh
    gc.collect()
    gc.freeze()
    matcher.match_many(exact[:2000])  # warm caches (folding memo, rapidfuzz)
    t0, c0 = time.perf_counter(), time.process_time()
    res = matcher.match_many(exact)
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    linked = sum(r.method == "exact_document" and r.outcome == "linked" for r in res)
    print(
        f"exact-document path: {len(exact) / dt:,.0f} records/s ({linked:,} linked); "
        f"CPU {1000 * cpu / len(exact):.3f} ms/record"
    )

    fuzzy = [replace(rec, doc_type=None, doc_number=None) for rec, _ in noisy]
    t0, c0 = time.perf_counter(), time.process_time()
    res = matcher.match_many(fuzzy)
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"fuzzy path (no documents): {len(fuzzy) / dt:,.0f} records/s; "
        f"CPU {1000 * cpu / len(fuzzy):.3f} ms/record"
    )
    stats: dict[str, list[int]] = {}
    for (_, kind), r, key in zip(noisy, res, truth, strict=True):
        s = stats.setdefault(kind, [0, 0, 0, 0])  # linked right, linked wrong, review, unmatched
        if r.outcome == "linked":
            s[0 if r.person_key == key else 1] += 1
        else:
            s[2 if r.outcome == "review" else 3] += 1
    total = np.array(list(stats.values())).sum(axis=0)
    print(
        f"  linked right {total[0]:,}  linked wrong {total[1]:,}  review {total[2]:,}  "
        f"unmatched {total[3]:,}; precision {total[0] / max(total[0] + total[1], 1):.4f}"
    )
    for kind, s in sorted(stats.items()):
        print(f"  {kind:16s} right {s[0]:6,} wrong {s[1]:4,} review {s[2]:5,} unmatched {s[3]:5,}")
    print(f"peak RSS: {_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
