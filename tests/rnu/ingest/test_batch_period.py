"""The database refuses a batch whose period is no month or year (migration 0013)."""

from __future__ import annotations

import asyncpg
import pytest

from tests.rnu.ingest.test_pipeline import fetch

INSERT = (
    "INSERT INTO load_batch (source, period, file_name, sha256, status) "
    "VALUES ('JUNTOS', $1, 'x.txt', $2, 'loading') RETURNING period"
)


@pytest.mark.parametrize("period", ["2026-10", "2026-01", "2026-12", "2026"])
def test_a_month_or_a_year_is_a_period(ingest_db: str, period: str) -> None:
    assert fetch(ingest_db, INSERT, period, f"ok-{period}")[0][0] == period


@pytest.mark.parametrize("period", ["2026-13", "2026-00", "202610", "2026-1", "octubre", ""])
def test_anything_else_is_refused(ingest_db: str, period: str) -> None:
    """'2026-13' was stored by `rnu load --period` and broke the statistics page for all."""
    with pytest.raises(asyncpg.CheckViolationError, match="ck_load_batch_period_form"):
        fetch(ingest_db, INSERT, period, f"bad-{period}")
