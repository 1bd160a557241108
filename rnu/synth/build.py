"""Generate a synthetic Peru: the PGH, RENIEC deaths, every program roll and the truth.

Work is split into fixed chunks of people, each with its own seeded RNG, so the output does not
depend on how many processes run them; parts are merged in chunk order.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import pickle
import random
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import xlsxwriter

from rnu.eligibility.rules import load_programs
from rnu.synth.defects import (
    married,
    quechua_variant,
    shifted_birth,
    shorten_given,
    transpose,
    typo,
)
from rnu.synth.names import NameBook
from rnu.synth.population import (
    MAX_PEOPLE,
    OTRO,
    OUTSIDE_BASE,
    OUTSIDE_END,
    OUTSIDE_PER_CHUNK,
    Calendar,
    Household,
    Numbering,
    Person,
    PopulationMaker,
)
from rnu.synth.programs import Rolls
from rnu.synth.rates import Rates
from rnu.synth.truth import TRUTH_HEADER, merge_truth, write_codes
from rnu.synth.writers import BECA18_SHEETS, HEADERS, WRITERS, TruthPart, dmy

CHUNK_PEOPLE = 20_000
_EXCEL_EPOCH = 693_594  # date(1899, 12, 30).toordinal(): Excel serial 0
PROGRAM_ORDER = ("JUNTOS", "PENSION65", "QALIWARMA", "CUNAMAS", "CONTIGO", "FISE", "BECA18", "SIS")


@dataclass(frozen=True)
class SynthSummary:
    """What was written: file name -> data rows (Excel: all sheets), plus population counts."""

    out_dir: Path
    people: int
    households: int
    files: dict[str, int] = field(default_factory=dict)
    truth_rows: int = 0
    pgh_duplicates: int = 0


@dataclass(frozen=True)
class ChunkSpec:
    """Everything a worker needs to generate one chunk."""

    number: int
    first_index: int
    people: int
    seed: int
    period: str
    rates: Rates
    part_dir: Path


@dataclass
class ChunkResult:
    """Counts of one generated chunk."""

    number: int
    people: int
    households: int
    pgh_rows: int
    deaths: int
    duplicates: int
    counts: dict[str, dict[str, int]]


def file_names(period: str) -> dict[str, str]:
    """Program code (plus 'pgh', 'deaths') -> file name for a period."""
    yyyymm = period.replace("-", "")
    names = {code: p.file_name(period) for code, p in load_programs().items()}
    names["pgh"] = f"pgh_{yyyymm}.csv"
    names["deaths"] = f"reniec_defunciones_{yyyymm}.csv"
    return names


@lru_cache(maxsize=2)
def _calendar(period: str) -> Calendar:
    return Calendar(period)


@lru_cache(maxsize=1)
def _names() -> NameBook:
    return NameBook()


class _Chunk:
    """State of one chunk being generated."""

    def __init__(self, spec: ChunkSpec) -> None:
        self.spec = spec
        self.rates = spec.rates
        self.rng = random.Random(spec.seed * 1_000_003 + spec.number)
        self.cal = _calendar(spec.period)
        self.numbering = Numbering.for_seed(spec.seed)
        self.names = _names()
        self.maker = PopulationMaker(
            self.rng,
            self.cal,
            self.names,
            twin=self.rates.twin,
            father_son=self.rates.father_son,
        )
        spec.part_dir.mkdir(parents=True, exist_ok=True)
        self.truth = TruthPart(spec.part_dir / "truth.part")
        names = file_names(spec.period)
        self.writers = {
            code: WRITERS[code](
                names[code], spec.part_dir, self.truth, self.rates, self.rng, self.cal
            )
            for code in PROGRAM_ORDER
        }
        self.pgh_fh = (spec.part_dir / "pgh.part").open("w", encoding="utf-8", newline="")
        self.pgh = csv.writer(self.pgh_fh, delimiter=";", lineterminator="\n")
        self.deaths_fh = (spec.part_dir / "deaths.part").open("w", encoding="utf-8", newline="")
        self.deaths = csv.writer(self.deaths_fh, lineterminator="\n")
        self.dups_fh = (spec.part_dir / "dups.part").open("w", encoding="utf-8", newline="")
        self.kin_fh = (spec.part_dir / "kin.part").open("w", encoding="utf-8", newline="")
        self.rolls = Rolls(
            writers=self.writers,
            rates=self.rates,
            rng=self.rng,
            cal=self.cal,
            period=spec.period,
            numbering=self.numbering,
            names=self.names,
            chunk=spec.number,
            kill=self._kill,
        )
        self.pgh_rows = 0
        self.death_rows = 0
        self.dup_rows = 0
        self.death_scale = 0.75 * self.rates.death / 0.006
        self.disability_scale = self.rates.disability / 0.015

    def _kill(self, p: Person, ordinal: int) -> None:
        p.death = ordinal

    def _facts(self, hh: Household, index: int) -> int:
        """Orden, key, documents, ages, natural death and disability of each member."""
        rng = self.rng
        cal = self.cal
        start = cal.start
        urban = hh.area == "U"
        for orden, p in enumerate(hh.members, 1):
            p.orden = orden
            p.key = f"{hh.hogar}-{orden}"
            p.age, p.age_months = cal.ages(p.birth)
            age = p.age
            r = rng.random()
            if age >= 18:
                if r < 0.012 and urban:
                    p.ti_doc, p.doc = "2", self.numbering.ce(index)
                elif r < (0.03 if urban else 0.05):
                    p.ti_doc = "0"
                else:
                    p.ti_doc, p.doc = "1", self.numbering.dni(index)
            elif r < 0.05:
                p.ti_doc = "0"
            else:
                p.ti_doc, p.doc = "3", self.numbering.dni(index)
            index += 1
            if age < 50:
                death, disability = 0.0012, 0.009
            elif age < 65:
                death, disability = 0.006, 0.012 if age < 60 else 0.04
            elif age < 80:
                death, disability = 0.025, 0.04
            else:
                death, disability = 0.08, 0.09
            if p.ti_doc in ("1", "3") and rng.random() < death * self.death_scale:
                if rng.random() < 0.85:
                    p.death = start - rng.randrange(1, 3 * 365)
                else:
                    p.death = start + rng.randrange(0, 75)
            p.disabled = rng.random() < disability * self.disability_scale
        return index

    def _kin(self, hh: Household) -> None:
        """Twins and father/son pairs of a household: look alike, are not PGH duplicates."""
        kin = [m for m in hh.members if m.kin]
        for i, a in enumerate(kin):
            for b in kin[i + 1 :]:
                if a.kin == b.kin == "twin" and a.birth == b.birth:
                    self.kin_fh.write(f"{a.key},{b.key},twin\n")
                elif a.kin == b.kin == "father_son" and a.nombres == b.nombres:
                    self.kin_fh.write(f"{a.key},{b.key},father_son\n")

    def _pgh_row(self, hh: Household, p: Person) -> None:
        text = self.cal.text
        self.pgh.writerow(
            (
                hh.hogar,
                p.orden,
                hh.district.inei,
                hh.area,
                p.ti_doc,
                p.doc,
                p.paterno,
                p.materno,
                p.nombres,
                text(p.birth),
                p.sex,
                p.parentesco,
                hh.cse,
                text(hh.cse_ini) if hh.cse else "",
                text(hh.cse_fin) if hh.cse else "",
            )
        )
        self.pgh_rows += 1

    def _reregistered(self, orig: Person, hh: Household, orden: int) -> Person:
        """The same person registered again in another household, with a slip or a change."""
        rng = self.rng
        copy = Person(hh, orig.sex, orig.birth, orig.paterno, orig.materno, orig.nombres, OTRO)
        copy.orden = orden
        copy.key = f"{hh.hogar}-{orden}"
        r = rng.random()
        if r < 0.3:
            copy.nombres = typo(copy.nombres, rng)
        elif r < 0.4:
            copy.paterno = typo(copy.paterno, rng)
        elif r < 0.5 and copy.materno:
            copy.paterno, copy.materno = copy.materno, copy.paterno
        elif r < 0.58:
            copy.materno = ""
        elif r < 0.68:
            copy.nombres = shorten_given(copy.nombres, rng) or copy.nombres
        elif r < 0.76 and copy.sex == "F" and orig.age >= 20:
            copy.materno = married(self.names.surnames[hh.district.region].pick(rng), rng)
        elif r < 0.84:
            copy.paterno = quechua_variant(copy.paterno, rng) or copy.paterno
        r = rng.random()
        if r < 0.25:
            copy.birth += rng.choice((-1, 1, -365, 365, 30))
        elif r < 0.3:
            copy.birth = shifted_birth(copy.birth, "day_month_swapped", rng) or copy.birth
        # The second registration has no document, or a mistyped one that belongs to no one.
        if orig.ti_doc in ("1", "3") and rng.random() < 0.35:
            for _ in range(4):
                new = transpose(orig.doc, rng)
                if new is not None and self.numbering.is_unused(new):
                    copy.ti_doc, copy.doc = orig.ti_doc, new
                    break
        return copy

    def run(self, progress: Callable[[int], None] | None) -> ChunkResult:
        """Generate the chunk household by household, streaming rows to the part files."""
        spec = self.spec
        rng = self.rng
        done = 0
        households = 0
        hh_index = spec.first_index
        index = spec.first_index
        pending: list[Person] = []
        next_report = 5000
        while done < spec.people:
            hh = self.maker.household(hh_index, self.numbering.hogar(hh_index))
            hh_index += 1
            households += 1
            del hh.members[spec.people - done :]
            index = self._facts(hh, index)
            self._kin(hh)
            done += len(hh.members)
            for p in hh.members:
                self._pgh_row(hh, p)
            orden = len(hh.members)
            for orig in pending:
                orden += 1
                copy = self._reregistered(orig, hh, orden)
                self._pgh_row(hh, copy)
                self.dups_fh.write(f"{orig.key},{copy.key}\n")
                self.dup_rows += 1
            pending = [p for p in hh.members if rng.random() < self.rates.pgh_duplicate]
            self.rolls.process(hh, hh.members)
            for p in hh.members:
                if p.death:
                    self.deaths.writerow((p.doc, self.cal.text(p.death)))
                    self.death_rows += 1
            if progress is not None and done >= next_report:
                progress(done)
                next_report += 5000
        for fh in (self.pgh_fh, self.deaths_fh, self.dups_fh, self.kin_fh):
            fh.close()
        for w in self.writers.values():
            w.close()
        self.truth.close()
        return ChunkResult(
            number=spec.number,
            people=done,
            households=households,
            pgh_rows=self.pgh_rows,
            deaths=self.death_rows,
            duplicates=self.dup_rows,
            counts={code: dict(w.counts) for code, w in self.writers.items()},
        )


def run_chunk(spec: ChunkSpec, progress: Callable[[int], None] | None = None) -> ChunkResult:
    """Generate one chunk into its part directory (a worker-process entry point)."""
    return _Chunk(spec).run(progress)


def _specs(out_parts: Path, people: int, seed: int, period: str, rates: Rates) -> list[ChunkSpec]:
    specs = []
    for number, first in enumerate(range(0, people, CHUNK_PEOPLE)):
        specs.append(
            ChunkSpec(
                number=number,
                first_index=first,
                people=min(CHUNK_PEOPLE, people - first),
                seed=seed,
                period=period,
                rates=rates,
                part_dir=out_parts / f"{number:05d}",
            )
        )
    return specs


def _results(
    specs: list[ChunkSpec], progress: Callable[[int], None] | None
) -> Iterator[ChunkResult]:
    if len(specs) == 1:
        yield run_chunk(specs[0], progress)
        return
    workers = max(1, min(2, os.cpu_count() or 1))
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        # Submit a few ahead only, so finished-but-unmerged parts stay bounded on disk.
        futures = [pool.submit(run_chunk, s) for s in specs[: workers * 2]]
        submitted = len(futures)
        done = 0
        for i in range(len(specs)):
            result = futures[i].result()
            if submitted < len(specs):
                futures.append(pool.submit(run_chunk, specs[submitted]))
                submitted += 1
            done += result.people
            if progress is not None:
                progress(done)
            yield result


class _Merger:
    """Appends chunk parts to the final files in chunk order."""

    def __init__(self, out_dir: Path, period: str) -> None:
        self.out_dir = out_dir
        self.names = file_names(period)
        self.period = period
        self.handles: dict[str, Any] = {}
        for key in ("pgh", "deaths", *PROGRAM_ORDER):
            if key in ("PENSION65", "BECA18"):
                continue
            fh = (out_dir / self.names[key]).open("wb")
            fh.write(self._header(key))
            self.handles[key] = fh
        self.dups = (out_dir / "truth" / "pgh_duplicates.csv").open("wb")
        self.dups.write(b"key_a,key_b\n")
        self.kin = (out_dir / "truth" / "pgh_kin.csv").open("wb")
        self.kin.write(b"key_a,key_b,relation\n")
        self.truth = (out_dir / "truth" / "rows.csv").open("w", encoding="utf-8", newline="")
        self.truth.write(TRUTH_HEADER)
        self.offsets: dict[tuple[str, str], int] = {}
        self._open_excel()
        self.totals: dict[str, int] = {}

    def _header(self, key: str) -> bytes:
        if key == "pgh":
            return (";".join(HEADERS["pgh"]) + "\n").encode()
        if key == "deaths":
            return (",".join(HEADERS["deaths"]) + "\n").encode()
        if key == "JUNTOS":
            return ("|".join(HEADERS["JUNTOS"]) + "\n").encode("latin-1")
        if key == "CONTIGO":
            return (",".join(f'"{h}"' for h in HEADERS["CONTIGO"]) + "\n").encode("cp1252")
        if key == "FISE":
            return b"\xef\xbb\xbf" + (",".join(HEADERS["FISE"]) + "\n").encode()
        if key == "SIS":
            return gzip.compress((",".join(HEADERS["SIS"]) + "\n").encode(), mtime=0)
        return b""  # Qali Warma (fixed width) and Cuna Más (JSON lines) have no header

    def _open_excel(self) -> None:
        created = datetime(int(self.period[:4]), int(self.period[5:7]), 1)
        props = {"author": "RNU synth", "created": created}
        opts = {"constant_memory": True, "strings_to_numbers": False}
        self.p65 = xlsxwriter.Workbook(str(self.out_dir / self.names["PENSION65"]), opts)
        self.p65.set_properties(props)
        bold = self.p65.add_format({"bold": True})
        self.date_fmt = self.p65.add_format({"num_format": "dd/mm/yyyy"})
        ws = self.p65.add_worksheet("PADRON")
        ws.write_string(0, 0, 'PROGRAMA NACIONAL DE ASISTENCIA SOLIDARIA "PENSIÓN 65"', bold)
        ws.write_string(1, 0, f"PADRÓN DE USUARIOS - PERIODO {self.period}")
        ws.write_string(2, 0, f"Fecha de corte: {dmy(self.period + '-01')}")
        for col, name in enumerate(HEADERS["PENSION65"]):
            ws.write_string(3, col, name, bold)
        self.p65_ws = ws
        self.p65_n = 0
        self.b18 = xlsxwriter.Workbook(str(self.out_dir / self.names["BECA18"]), opts)
        self.b18.set_properties(props)
        self.b18_ws = {}
        for sheet in BECA18_SHEETS:
            ws = self.b18.add_worksheet(sheet)
            for col, name in enumerate(HEADERS["BECA18"]):
                ws.write_string(0, col, name)
            self.b18_ws[sheet] = ws
        self.b18_n = dict.fromkeys(BECA18_SHEETS, 0)

    def add(self, spec: ChunkSpec, result: ChunkResult) -> None:
        """Append one finished chunk, then delete its parts."""
        part = spec.part_dir
        for key, fh in self.handles.items():
            src = "pgh" if key == "pgh" else ("deaths" if key == "deaths" else key)
            with (part / f"{src}.part").open("rb") as pf:
                shutil.copyfileobj(pf, fh, 1 << 20)
        with (part / "dups.part").open("rb") as pf:
            shutil.copyfileobj(pf, self.dups)
        with (part / "kin.part").open("rb") as pf:
            shutil.copyfileobj(pf, self.kin)
        merge_truth(part / "truth.part", self.truth, self.offsets)
        for code, counts in result.counts.items():
            for sheet, n in counts.items():
                k = (self.names[code], sheet)
                self.offsets[k] = self.offsets.get(k, 0) + n
        self._excel_rows(part)
        shutil.rmtree(part)

    def _excel_rows(self, part: Path) -> None:
        with (part / "PENSION65.part").open("rb") as fh:
            rows: list[tuple[str, list[Any]]] = pickle.load(fh)
        ws = self.p65_ws
        for _sheet, fields in rows:
            self.p65_n += 1
            r = self.p65_n + 3
            ws.write_number(r, 0, self.p65_n)
            dni = fields[0]
            if dni is not None:
                ws.write_number(r, 1, dni)
            ws.write_string(r, 2, fields[1])
            ws.write_string(r, 3, fields[2])
            ws.write_string(r, 4, fields[3])
            birth = fields[4]
            if isinstance(birth, int):
                ws.write_number(r, 5, birth - _EXCEL_EPOCH, self.date_fmt)
            else:
                ws.write_string(r, 5, birth)
            for col in range(6, 10):
                ws.write_string(r, col, fields[col - 1])
        with (part / "BECA18.part").open("rb") as fh:
            rows = pickle.load(fh)
        for sheet, fields in rows:
            self.b18_n[sheet] += 1
            ws = self.b18_ws[sheet]
            for col, value in enumerate(fields):
                ws.write_string(self.b18_n[sheet], col, value)

    def close(self) -> None:
        """Close every output (xlsxwriter assembles the workbooks here)."""
        for fh in self.handles.values():
            fh.close()
        self.dups.close()
        self.kin.close()
        self.truth.close()
        self.p65.close()
        self.b18.close()


def generate(
    out_dir: Path,
    *,
    people: int,
    seed: int,
    period: str = "2026-10",
    rates: Rates | None = None,
    progress: Callable[[int], None] | None = None,
) -> SynthSummary:
    """Write the PGH, deaths, every roll for `period` and truth/ into `out_dir`.

    The same (people, seed, period, rates) always gives the same files; `progress(n)` gets the
    number of people generated so far.
    """
    if not 0 < people <= MAX_PEOPLE:
        raise ValueError(f"people must be between 1 and {MAX_PEOPLE}")
    rates = rates or Rates()
    out_dir = Path(out_dir)
    (out_dir / "truth").mkdir(parents=True, exist_ok=True)
    parts = out_dir / ".parts"
    if parts.exists():
        shutil.rmtree(parts)
    specs = _specs(parts, people, seed, period, rates)
    if OUTSIDE_BASE + len(specs) * OUTSIDE_PER_CHUNK > OUTSIDE_END:
        raise ValueError("too many chunks for the reserved document numbers")
    merger = _Merger(out_dir, period)
    totals = {"pgh": 0, "deaths": 0}
    households = duplicates = generated = 0
    try:
        for spec, result in zip(specs, _results(specs, progress), strict=True):
            merger.add(spec, result)
            totals["pgh"] += result.pgh_rows
            totals["deaths"] += result.deaths
            households += result.households
            duplicates += result.duplicates
            generated += result.people
            for code, counts in result.counts.items():
                totals[code] = totals.get(code, 0) + sum(counts.values())
    finally:
        merger.close()
        shutil.rmtree(parts, ignore_errors=True)
    names = file_names(period)
    files = {names[k]: totals.get(k, 0) for k in ("pgh", "deaths", *PROGRAM_ORDER)}
    truth_rows = sum(totals.get(code, 0) for code in PROGRAM_ORDER)
    config = {
        "seed": seed,
        "people": people,
        "period": period,
        "households": households,
        "pgh_duplicates": duplicates,
        "chunk_people": CHUNK_PEOPLE,
        "rates": rates.as_dict(),
        "files": files,
    }
    write_codes(out_dir / "truth" / "codes.csv")
    (out_dir / "truth" / "config.json").write_text(
        json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    if progress is not None:
        progress(generated)
    return SynthSummary(
        out_dir=out_dir,
        people=generated,
        households=households,
        files=files,
        truth_rows=truth_rows,
        pgh_duplicates=duplicates,
    )
