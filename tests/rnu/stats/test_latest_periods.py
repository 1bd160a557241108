"""The statistics place each program at its latest period of the right form."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.sqlexec import run_sql
from rnu.stats.repository import latest_periods
from tests.factories import create_batch


async def test_a_period_stored_before_the_check_is_not_the_latest(session: AsyncSession) -> None:
    """'2099-13' sorts after '2099-12'; taken as the latest it made /estadisticas a 400."""
    # as a registry loaded before migration 0013 may hold it (rolled back with the session)
    await run_sql(session, "ALTER TABLE load_batch DROP CONSTRAINT ck_load_batch_period_form")
    await create_batch(session, source="CONTIGO", period="2099-12", sha256="c" * 64)
    await create_batch(session, source="CONTIGO", period="2099-13", sha256="d" * 64)
    assert (await latest_periods(session))["CONTIGO"] == "2099-12"
