"""A load matches the rows that have something to identify a person and explains the rest.

Issue 10 (cause 6): a blank given name or an impossible birth date kept true pairs from the
matcher. Issue 13 (item 13): exact copies showed a generic placeholder in the quarantine CSV.
"""

from __future__ import annotations

import csv

from tests.rnu.ingest.builders import population, write_pgh, write_sis
from tests.rnu.ingest.test_pipeline import fetch, load, run
from usecases.loads import write_quarantine


def test_rows_with_gaps_are_matched_and_only_unidentifiable_ones_quarantined(
    ingest_db: str, tmp_path
) -> None:
    people = population("R", 4)
    load(ingest_db, write_pgh(tmp_path / "pgh_202610.csv", people))
    a, b, c = people[0], people[1], people[2]
    lines = [
        a.sis_line(NOMBRES=""),  # given name blank: the DNI still links it
        b.sis_line(FEC_NAC=f"{b.born.year}-02-31"),  # impossible date: a note
        c.sis_line(),
        c.sis_line(),  # an exact copy: quarantined, with its own message
        "1,ABC,,,,1980-02-31,M,150101,SUBSIDIADO,2020-05-06",  # nothing usable
    ]
    result = load(ingest_db, write_sis(tmp_path / "sis_202610.csv.gz", lines))
    assert result.rows_read == 5
    assert result.rows_loaded + result.rows_quarantined == result.rows_read
    assert result.rows_quarantined == 2
    rows = {
        r["row_number"]: r
        for r in fetch(
            ingest_db,
            "SELECT r.row_number, r.outcome, p.pgh_key, r.doc_notes, r.birth_on "
            "FROM roll_row r LEFT JOIN person p ON p.id = r.person_id WHERE r.batch_id = $1",
            result.batch_id,
        )
    }
    # Both reach the matcher with the right person (linked, or in review with that
    # person as the first candidate: how sure it is, is the engine's call).
    assert (rows["1"]["outcome"] in ("linked", "review"), rows["1"]["pgh_key"]) == (True, a.key)
    assert (rows["2"]["outcome"] in ("linked", "review"), rows["2"]["pgh_key"]) == (True, b.key)
    assert (rows["2"]["birth_on"], list(rows["2"]["doc_notes"])) == (None, ["impossible_date"])
    out = tmp_path / "cuarentena.csv"
    assert run(write_quarantine(ingest_db, result.batch_id, out)) == 2
    with out.open(encoding="utf-8-sig") as fh:
        quarantined = {r["fila"]: r for r in csv.DictReader(fh)}
    assert quarantined["4"]["motivos"] == "duplicate_row"
    assert "copia exacta" in quarantined["4"]["detalle"]
    assert quarantined["5"]["motivos"] == (
        "not_identifiable;dni_not_numeric;missing_name;impossible_date"
    )
    assert "Comuníquese con el equipo del RNU" not in quarantined["5"]["detalle"]
