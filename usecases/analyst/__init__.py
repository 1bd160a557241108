"""The MIDIS analysts' jobs: the flag queue, one flag, actions on flags, match review, dashboard.

The JSON API (``api/rest/analista*``) and the pages (``web/pages/analista*``) call these and
reimplement none of it. Each job is done once here, with its policy and audit in one place:

* people leave only through ``privacy.policy.person_out`` with the analyst's caller, from the
  one view mapping (``usecases.views``: a CUI is shown as the DNI, ``is_minor`` computed);
* reads are audited by the core services (``rnu.flag.service``, ``rnu.review.service``), one
  row per person shown, in the request's transaction; actions write a flag event and an audit
  row there too;
* an action or a review decision runs in a savepoint, so a refused one undoes only itself and
  the caller's session stays usable (a page can still render the flag with the error);
* bulk actions need a supervisor or an admin (``Forbidden`` otherwise), whatever the edge.

Errors are the domain's (``rnu.errors``): an unknown flag is ``NotFound``, a dismissal without
a reason ``InvalidInput``; each medium renders them once.
"""

from __future__ import annotations

from usecases.analyst.actor import SUPERVISOR_ROLES, Analyst
from usecases.analyst.board import BoardView, board_view
from usecases.analyst.evidence import EvidenceView, Fact, evidence_view
from usecases.analyst.flags import (
    ActionDone,
    ActionIn,
    Assignees,
    BulkIn,
    EvidenceFile,
    FlagAction,
    FlagCase,
    act,
    assignees,
    bulk,
    evidence_file,
    flag_case,
)
from usecases.analyst.queue import (
    FILTER_PARAMS,
    QueueLine,
    QueuePage,
    QueueQuery,
    export_csv,
    queue,
    queue_filter,
)
from usecases.analyst.review import (
    Candidate,
    Dashboard,
    DashboardRow,
    DecisionIn,
    DecisionResult,
    ReviewCase,
    ReviewPage,
    agreement_class,
    dashboard,
    decide,
    review_case,
    review_queue,
)

__all__ = [
    "FILTER_PARAMS",
    "SUPERVISOR_ROLES",
    "ActionDone",
    "ActionIn",
    "Analyst",
    "Assignees",
    "BoardView",
    "BulkIn",
    "Candidate",
    "Dashboard",
    "DashboardRow",
    "DecisionIn",
    "DecisionResult",
    "EvidenceFile",
    "EvidenceView",
    "Fact",
    "FlagAction",
    "FlagCase",
    "QueueLine",
    "QueuePage",
    "QueueQuery",
    "ReviewCase",
    "ReviewPage",
    "act",
    "agreement_class",
    "assignees",
    "board_view",
    "bulk",
    "dashboard",
    "decide",
    "evidence_file",
    "evidence_view",
    "export_csv",
    "flag_case",
    "queue",
    "queue_filter",
    "review_case",
    "review_queue",
]
