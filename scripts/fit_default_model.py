"""Fit the fallback match model shipped with RNU, on a synthetic country (no database).

    .venv/bin/python scripts/fit_default_model.py [--people 60000] [--seed 5]

Builds a country with `rnu synth`, indexes its PGH file and fits the model (EM, as every
load does) on its SIS file. The fallback is used only when a load has too few candidate
pairs to fit on (tiny files, tests), and for fields a load cannot estimate itself (a file
without birth dates); every real load fits m and the prior on its own rows first.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loaders.registry import LOADERS
from rnu.ingest.matcher import to_record
from rnu.ingest.rows import CanonicalRow, PghRow
from rnu.matching.calibrate import fit
from rnu.matching.index import PghIndex
from rnu.matching.records import PersonRecord
from rnu.synth import generate

OUT = Path(__file__).resolve().parent.parent / "rnu" / "matching" / "default_model.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=60_000)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rnu-default-model-") as tmp:
        country = Path(tmp)
        generate(country, people=args.people, seed=args.seed)
        pgh_file = next(country.glob("pgh_*.csv"))
        sis_file = next(country.glob("sis_*.csv*"))
        with pgh_file.open("rb") as fh:
            pgh = [
                PersonRecord(
                    r.person_key,
                    r.doc_type,
                    r.doc_number,
                    True,
                    r.nombres,
                    r.apellido_paterno,
                    r.apellido_materno,
                    r.birth_date,
                    r.sex,
                    r.ubigeo,
                )  # fmt: skip
                for r in LOADERS["pgh"]().rows(fh)
                if isinstance(r, PghRow)
            ]
        with sis_file.open("rb") as fh:
            rows = [r for r in LOADERS["sis"]().rows(fh) if isinstance(r, CanonicalRow)]
    index = PghIndex.build(pgh)
    records = [to_record(r, r.row_number) for r in rows[:: max(len(rows) // 5_000, 1)]]
    model, thresholds = fit(index, records)
    OUT.write_text(
        json.dumps(
            {"model": json.loads(model.to_json()), "thresholds": asdict(thresholds)},
            indent=1,
            sort_keys=True,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {OUT} (upper {thresholds.upper:.2f}, lower {thresholds.lower:.2f})")


if __name__ == "__main__":
    main()
