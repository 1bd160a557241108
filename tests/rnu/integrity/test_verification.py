"""Flags must not outrun the evidence (issue 10): unconfirmed links give "por verificar" flags.

A flag resting on a row in the review queue, or on a fuzzy link near its load's threshold,
is held `pending`; public statistics count only verified flags; a reviewer's decision on the
row re-runs the check and the flag becomes a normal one. A row waiting in review never makes
the real beneficiary's row a `duplicate_in_program`.
"""

from __future__ import annotations

from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.audit.service import Actor
from rnu.db import connect_raw
from rnu.integrity import checks
from rnu.integrity.repository import NEAR_THRESHOLD_BITS, write_flags
from rnu.integrity.service import check_batch
from rnu.review.models import MatchReviewItem
from rnu.review.service import confirm_link, decide
from rnu.stats.repository import count_flags, flag_programs
from tests.factories import create_batch, create_enrollment, create_roll_row
from tests.rnu.integrity.test_checks import PERIOD, fetch, person_in

THRESHOLD = 10.0


async def verification(url: str) -> dict[tuple[str, int], str]:
    """(kind, roll row id) -> verification of every open flag."""
    sql = "SELECT kind, roll_row_id, verification FROM flag WHERE status = 'open'"
    rows = await fetch(url, sql)
    return {(r[0], r[1]): r[2] for r in rows}


async def _decide(
    db: AsyncSession, item: MatchReviewItem, decision: str, person_key: str | None = None
) -> bool:
    """An analyst's decision on the item, committed; whether the checks were re-run."""
    actor = Actor("analyst", "analyst:ana", "revision")
    result = await decide(
        db, actor=actor, secret=b"s" * 32, item_id=item.id or 0, decision=decision,
        person_key=person_key,
    )  # fmt: skip
    await db.commit()
    return result.checks_rerun


class TestReviewRows:
    async def _beneficiary_and_review_row(self, db: AsyncSession):
        batch = await create_batch(db, source="SIS", period=PERIOD, link_threshold=THRESHOLD)
        person, _ = await person_in(db, hh={"cse": "P"})
        enrollment = await create_enrollment(db, person=person, batch=batch)
        # Another row the matcher was unsure of: in review, with the beneficiary first.
        review_row = await create_roll_row(
            db, batch=batch, person=person, outcome="review", method="fuzzy", weight=7.0,
            doc_type=None, doc_number=None,
        )  # fmt: skip
        assert review_row.id is not None
        assert batch.id is not None
        item = MatchReviewItem(
            roll_row_id=review_row.id,
            batch_id=batch.id,
            candidates=[{"person_key": person.pgh_key, "weight": 7.0, "agreements": {}}],
        )
        db.add(item)
        await db.commit()
        return batch, person, enrollment, review_row, item

    async def test_review_row_does_not_flag_the_beneficiary(
        self, db: AsyncSession, integrity_url: str
    ) -> None:
        batch, _, enrollment, review_row, _ = await self._beneficiary_and_review_row(db)
        assert batch.id is not None
        await check_batch(integrity_url, batch.id)
        found = await verification(integrity_url)
        assert ("duplicate_in_program", enrollment.roll_row_id) not in found
        assert found == {("duplicate_in_program", review_row.id): "pending"}

    async def test_reviewer_linking_the_row_makes_both_flags_normal(
        self, db: AsyncSession, integrity_url: str
    ) -> None:
        batch, person, enrollment, review_row, item = await self._beneficiary_and_review_row(db)
        assert batch.id is not None
        await check_batch(integrity_url, batch.id)
        assert await _decide(db, item, "link", person.pgh_key)
        assert await verification(integrity_url) == {
            ("duplicate_in_program", enrollment.roll_row_id): "verified",
            ("duplicate_in_program", review_row.id): "verified",
        }

    async def test_reviewer_saying_distinct_resolves_the_flag(
        self, db: AsyncSession, integrity_url: str
    ) -> None:
        batch, _, _, _, item = await self._beneficiary_and_review_row(db)
        assert batch.id is not None
        await check_batch(integrity_url, batch.id)
        assert await _decide(db, item, "distinct")
        kinds = {k for k, _ in await verification(integrity_url)}
        assert "duplicate_in_program" not in kinds


class TestFuzzyLinks:
    async def test_near_threshold_is_pending_and_not_public(
        self, db: AsyncSession, integrity_url: str
    ) -> None:
        batch = await create_batch(db, source="PENSION65", period=PERIOD, link_threshold=THRESHOLD)
        dead = {"birth_on": date(1950, 3, 3), "death_on": date(2026, 9, 1)}
        rows = {}
        for name, method, weight in (
            ("near", "fuzzy", THRESHOLD + NEAR_THRESHOLD_BITS - 0.5),
            ("far", "fuzzy", THRESHOLD + NEAR_THRESHOLD_BITS + 3.0),
            ("document", "exact_document", THRESHOLD + 0.5),
            ("dateless", "fuzzy", THRESHOLD + NEAR_THRESHOLD_BITS + 3.0),
        ):
            person, _ = await person_in(db, hh={"cse": "PE"}, **dead)
            row = await create_roll_row(db, batch=batch, person=person, method=method,
                                        weight=weight)  # fmt: skip
            if name == "dateless":  # the row had no birth date: names and place alone
                row.birth_on = None
                db.add(row)
            await create_enrollment(db, person=person, batch=batch, roll_row=row)
            rows[name] = row.id
        await db.commit()
        assert batch.id is not None
        await check_batch(integrity_url, batch.id)
        assert await verification(integrity_url) == {
            ("deceased", rows["near"]): "pending",
            ("deceased", rows["far"]): "verified",
            ("deceased", rows["document"]): "verified",
            ("deceased", rows["dateless"]): "pending",
        }
        # Public figures: the pending flag is not a filtración yet.
        counts = await count_flags(db, digits=2, prefix="")
        assert counts == {("15", "deceased"): 2}
        assert await flag_programs(db) == {"PENSION65"}

    async def test_only_pending_flags_of_a_program_are_not_public(
        self, db: AsyncSession, integrity_url: str
    ) -> None:
        batch = await create_batch(db, source="PENSION65", period=PERIOD, link_threshold=20.0)
        person, _ = await person_in(
            db, hh={"cse": "PE"}, birth_on=date(1950, 3, 3), death_on=date(2026, 9, 1)
        )
        row = await create_roll_row(db, batch=batch, person=person, method="fuzzy", weight=21.0)
        await create_enrollment(db, person=person, batch=batch, roll_row=row)
        await db.commit()
        assert batch.id is not None
        await check_batch(integrity_url, batch.id)
        assert await count_flags(db, digits=2, prefix="") == {}
        assert await flag_programs(db) == set()

    async def test_reviewer_confirming_the_link_makes_the_flag_public(
        self, db: AsyncSession, integrity_url: str
    ) -> None:
        batch = await create_batch(db, source="PENSION65", period=PERIOD, link_threshold=THRESHOLD)
        person, _ = await person_in(
            db, hh={"cse": "PE"}, birth_on=date(1950, 3, 3), death_on=date(2026, 9, 1)
        )
        row = await create_roll_row(db, batch=batch, person=person, method="fuzzy",
                                    weight=THRESHOLD + 1.0)  # fmt: skip
        await create_enrollment(db, person=person, batch=batch, roll_row=row)
        await db.commit()
        assert batch.id is not None
        await check_batch(integrity_url, batch.id)
        assert await verification(integrity_url) == {("deceased", row.id): "pending"}
        actor = Actor("analyst", "analyst:ana", "revision")
        result = await confirm_link(db, actor=actor, secret=b"s" * 32, roll_row_id=row.id or 0)
        await db.commit()
        assert result.checks_rerun
        assert await verification(integrity_url) == {("deceased", row.id): "verified"}
        assert await count_flags(db, digits=2, prefix="") == {("15", "deceased"): 1}


async def test_pgh_duplicate_pair_in_review_is_pending(integrity_url: str) -> None:
    """A grey-zone PGH-duplicate pair (include_review) is not a finding yet."""
    conn = await connect_raw(integrity_url)
    try:
        async with conn.transaction():
            await conn.execute(checks.DROP_STAGING)
            await conn.execute(checks.CREATE_FLAG_STAGING)
            for outcome in ("linked", "review"):
                evidence = f'{{"facts": {{"keys": ["a-{outcome}", "b"], "outcome": "{outcome}"}}}}'
                await conn.execute(
                    "INSERT INTO chk_flag VALUES ('pgh_duplicate', 'low', $1, NULL, NULL, NULL, "
                    "'150101', $2::jsonb)",
                    f"pgh:{outcome}",
                    evidence,
                )
            await write_flags(conn, program=None, period=None, kinds=["pgh_duplicate"])
        rows = await conn.fetch("SELECT subject_key, verification FROM flag ORDER BY 1")
        await conn.execute("DELETE FROM flag WHERE kind = 'pgh_duplicate'")
    finally:
        await conn.close()
    assert [tuple(r) for r in rows] == [("pgh:linked", "verified"), ("pgh:review", "pending")]
