"""bench.scoring.why_missed: the reason each missed row of a synthetic country is given."""

from __future__ import annotations

from pathlib import Path

from bench.scoring import why_missed


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def test_each_miss_gets_its_reason(tmp_path: Path) -> None:
    truth = tmp_path / "truth"
    truth.mkdir()
    _write(
        truth / "rows.csv",
        "file,row_number,true_person_key,defects,cases\n"
        "f.csv,1,P1,neighbour_dni,\n"  # held: names alone, right person first
        "f.csv,2,P2,twin,\n"  # held: the other twin first, a contradiction
        "f.csv,3,P3,typo,\n"  # linked to someone else
        "f.csv,4,P4,,\n"  # linked right: not a miss
        "f.csv,5,,namesake_trap,\n"  # not in the PGH: not a recall miss
        "f.csv,6,P6,typo,\n",  # unmatched
    )
    _write(
        tmp_path / "links.csv",
        "file,row_number,outcome,person_key,method,weight\n"
        "f.csv,1,review,,,\nf.csv,2,review,,,\nf.csv,3,linked,P9,fuzzy,20\n"
        "f.csv,4,linked,P4,fuzzy,20\nf.csv,5,unmatched,,,\nf.csv,6,unmatched,,,\n",
    )
    alone = {"birth_date": "missing", "document": "different", "nombres": "exact"}
    other = {"birth_date": "exact", "document": "missing", "nombres": "different"}
    review = {
        ("f.csv", "1"): [{"person_key": "P1", "agreements": alone}],
        ("f.csv", "2"): [
            {"person_key": "P7", "agreements": alone},
            {"person_key": "P2", "agreements": other},
        ],
    }
    why = why_missed(truth, tmp_path / "links.csv", review)
    assert why["neighbour_dni"] == {"review (first): names alone (no agreeing date or document)": 1}
    assert why["twin"] == {
        "review (not first): a contradiction (date years off / other given name)": 1
    }
    assert why["typo"] == {"linked to someone else": 1, "unmatched": 1}
    assert "clean" not in why
    assert "namesake_trap" not in why
