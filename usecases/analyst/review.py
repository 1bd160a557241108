"""Match review (the queue, one item beside its candidates, a decision) and the dashboard."""

from __future__ import annotations

from dataclasses import dataclass

from privacy.policy import PersonOut, person_out
from rnu.batch.models import LoadBatch
from rnu.dashboard import service as dashboard_service
from rnu.dashboard.service import Dashboard as Dashboard
from rnu.dashboard.service import DashboardRow as DashboardRow
from rnu.enrollment.models import RollRow
from rnu.review import service as review_service
from rnu.review.models import MatchReviewItem
from rnu.review.service import DecisionResult as DecisionResult
from rnu.review.service import ReviewPage as ReviewPage
from rnu.review.service import agreement_class as agreement_class
from usecases import views
from usecases.analyst.actor import Analyst

# ---------------------------------------------------------------------------------------------
# Match review


async def review_queue(
    analyst: Analyst, *, program_code: str | None = None, page: int = 1
) -> ReviewPage:
    """Rows matching could not decide on, oldest first; the rows' people audited."""
    return await review_service.list_queue(
        analyst.session,
        actor=analyst.actor,
        secret=analyst.secret,
        program_code=program_code or None,
        page=page,
    )


@dataclass(frozen=True)
class Candidate:
    """A person the row may be, through the policy, with the field-level agreements."""

    key: str | None
    weight: float
    person: PersonOut
    doc_type: str | None
    agreements: dict[str, str]

    def highlight(self, field_name: str) -> str:
        return agreement_class(self.agreements.get(field_name))


@dataclass(frozen=True)
class ReviewCase:
    item: MatchReviewItem
    row: RollRow
    batch: LoadBatch
    candidates: list[Candidate]


async def review_case(analyst: Analyst, item_id: int, *, purpose: str | None) -> ReviewCase:
    """The row beside its candidates (best first); the row's and candidates' people audited.

    ``purpose``: why the analyst opens these people (``rnu.audit.purposes``), required.
    """
    d = await review_service.get_detail(
        analyst.session,
        actor=analyst.reading_for(purpose),
        secret=analyst.secret,
        item_id=item_id,
    )
    today = analyst.clock.today()
    candidates = [
        Candidate(
            key=c.person.pgh_key,
            weight=c.weight,
            person=person_out(
                views.person_view(analyst.secret, c.person, household=c.household, today=today),
                analyst.caller,
            ),
            doc_type=c.person.doc_type,
            agreements=c.agreements,
        )
        for c in d.candidates
    ]
    return ReviewCase(item=d.item, row=d.row, batch=d.batch, candidates=candidates)


@dataclass(frozen=True)
class DecisionIn:
    """``link`` (to the candidate ``person_key``), ``new_person`` or ``distinct``."""

    decision: str
    person_key: str | None = None


async def decide(analyst: Analyst, item_id: int, decision: DecisionIn) -> DecisionResult:
    """Apply a review decision now (in a savepoint: a refused one undoes only itself)."""
    async with analyst.session.begin_nested():
        return await review_service.decide(
            analyst.session,
            actor=analyst.actor,
            secret=analyst.secret,
            item_id=item_id,
            decision=decision.decision,
            person_key=decision.person_key,
        )


# ---------------------------------------------------------------------------------------------
# Dashboard


async def dashboard(
    analyst: Analyst,
    *,
    program_code: str | None = None,
    department: str | None = None,
    province: str | None = None,
    period: str | None = None,
) -> Dashboard:
    """Per program and department: users, flags, filtración rate, subcobertura, expiring CSE;
    and the flags per kind over the latest periods of the same program and place."""
    return await dashboard_service.build(
        analyst.session,
        today=analyst.clock.today(),
        program_code=program_code or None,
        department=department or None,
        province=province or None,
        period=period or None,
    )
