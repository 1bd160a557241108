"""A garbage or truncated roll does not replace the period's roll (issue 11, item 10)."""

from __future__ import annotations

import pytest

from rnu.db import connect_raw
from rnu.errors import InvalidInput
from rnu.ingest.replacement import RollShrinkRefused
from tests.rnu.ingest.builders import population, write_pgh, write_sis
from tests.rnu.ingest.test_pipeline import fetch, load, run
from usecases.loads import load_file, load_on, plan_file

ENROLLED = (
    "SELECT count(*), min(batch_id) FROM enrollment WHERE program_code = 'SIS' "
    "AND period = '2026-10'"
)
BATCHES = "SELECT id, status FROM load_batch WHERE source = 'SIS' ORDER BY id"


@pytest.fixture
def loaded_roll(ingest_db: str, tmp_path):
    """A PGH of 9 people, all on the SIS roll of 2026-10."""
    people = population("R", 3)
    load(ingest_db, write_pgh(tmp_path / "pgh_202610.csv", people))
    first = load(
        ingest_db,
        write_sis(tmp_path / "a.csv.gz", [p.sis_line() for p in people]),
        "sis",
        "2026-10",
    )
    assert first.outcomes["enrolled"] == 9
    return people, first


def test_a_file_with_no_valid_row_keeps_the_previous_roll(
    ingest_db: str, tmp_path, loaded_roll
) -> None:
    _, first = loaded_roll
    garbage = write_sis(tmp_path / "b.csv.gz", ["1,123", "x;y;z", "???"])
    with pytest.raises(RollShrinkRefused, match="nothing was replaced"):
        load(ingest_db, garbage, "sis", "2026-10")
    assert tuple(fetch(ingest_db, ENROLLED)[0]) == (9, first.batch_id)
    statuses = [tuple(r) for r in fetch(ingest_db, BATCHES)]
    assert statuses[0] == (first.batch_id, "committed")
    assert [s for _, s in statuses[1:]] == ["failed"]  # the attempt is in the history


def test_a_roll_that_loses_more_than_half_is_refused(ingest_db: str, tmp_path, loaded_roll) -> None:
    people, first = loaded_roll
    truncated = write_sis(tmp_path / "b.csv.gz", [p.sis_line() for p in people[:4]])
    with pytest.raises(RollShrinkRefused, match="a drop of 56%"):
        load(ingest_db, truncated, "sis", "2026-10")
    assert tuple(fetch(ingest_db, ENROLLED)[0]) == (9, first.batch_id)


def test_the_sender_may_confirm_a_real_drop(ingest_db: str, tmp_path, loaded_roll) -> None:
    people, _ = loaded_roll
    truncated = write_sis(tmp_path / "b.csv.gz", [p.sis_line() for p in people[:4]])
    second = run(load_file(ingest_db, plan_file(truncated, "sis", "2026-10"), confirm_drop=True))
    assert second.status == "committed"
    assert tuple(fetch(ingest_db, ENROLLED)[0]) == (4, second.batch_id)


def test_an_upload_over_the_row_limit_is_refused_whole(ingest_db: str, tmp_path) -> None:
    """Issue 11 item 9: an upload may not hold more rows than RNU_UPLOAD_MAX_ROWS."""
    people = population("M", 3)
    load(ingest_db, write_pgh(tmp_path / "pgh_202610.csv", people))
    roll = write_sis(tmp_path / "sis.csv.gz", [p.sis_line() for p in people])

    async def go():
        conn = await connect_raw(ingest_db)
        try:
            return await load_on(
                conn, plan_file(roll, "sis", "2026-10"), index_key=ingest_db, max_rows=5
            )
        finally:
            await conn.close()

    with pytest.raises(InvalidInput, match="more than 5 rows"):
        run(go())
    assert fetch(ingest_db, ENROLLED)[0][0] == 0
