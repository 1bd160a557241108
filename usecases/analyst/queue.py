"""The flag queue: filters by their Spanish names, a page of flags, the CSV export.

Each line's person goes through the analyst's policy; the people listed or exported are
audited by ``rnu.flag.service``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from privacy.policy import PersonOut, PersonView, person_out
from rnu.errors import InvalidInput
from rnu.flag import service as flag_service
from rnu.flag.repository import FlagFilter
from usecases import views
from usecases.analyst.actor import Analyst

# The queue's filters by the names the pages and the API use (Spanish query parameters).
FILTER_PARAMS = (
    "tipo",
    "programa",
    "periodo",
    "departamento",
    "provincia",
    "distrito",
    "severidad",
    "estado",
    "asignado",
)


def queue_filter(values: Mapping[str, str | None], *, strict: bool = False) -> FlagFilter:
    """Filter values by their Spanish names to a queue filter (blank: any).

    ``strict`` refuses names that are not filters (a bulk action must not silently widen).
    """
    unknown = set(values) - set(FILTER_PARAMS)
    if strict and unknown:
        raise InvalidInput(f"unknown filters: {', '.join(sorted(unknown))}")

    def value(name: str) -> str | None:
        text = values.get(name)
        return text.strip() or None if text else None

    return FlagFilter(
        kind=value("tipo"),
        program_code=value("programa"),
        period=value("periodo"),
        department=value("departamento"),
        province=value("provincia"),
        district=value("distrito"),
        severity=value("severidad"),
        status=value("estado"),
        assigned_to=value("asignado"),
    )


# ---------------------------------------------------------------------------------------------
# The queue


@dataclass(frozen=True)
class QueueQuery:
    filters: FlagFilter = field(default_factory=FlagFilter)
    sort: str = "created_at"
    descending: bool = True
    page: int = 1
    page_size: int = 50


@dataclass(frozen=True)
class QueueLine:
    """One flag of the queue and its person as the analyst may see them (None: no person)."""

    flag: flag_service.FlagItem
    person: PersonOut | None


@dataclass(frozen=True)
class QueuePage:
    lines: list[QueueLine]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _line_person(analyst: Analyst, item: flag_service.FlagItem) -> PersonOut | None:
    if item.person_id is None:
        return None
    view = PersonView.build(
        analyst.secret,
        person_key=item.pgh_key or f"id:{item.person_id}",
        dni=views.shown_dni(item.doc_type, item.doc_number),
        nombres=item.nombres,
        apellido_paterno=item.apellido_paterno,
        apellido_materno=item.apellido_materno,
        birth_date=None,
        sex=None,
        ubigeo=item.ubigeo,
    )
    return person_out(view, analyst.caller)


async def queue(analyst: Analyst, query: QueueQuery) -> QueuePage:
    """One page of the filtered, sorted queue (citizen reports included); people audited."""
    page = await flag_service.list_queue(
        analyst.session,
        actor=analyst.actor,
        secret=analyst.secret,
        filters=query.filters,
        sort=query.sort,
        descending=query.descending,
        page=query.page,
        page_size=query.page_size,
    )
    return QueuePage(
        lines=[QueueLine(item, _line_person(analyst, item)) for item in page.items],
        total=page.total,
        page=page.page,
        page_size=page.page_size,
    )


async def export_csv(analyst: Analyst, filters: FlagFilter) -> str:
    """The filtered set as CSV (cells defused against spreadsheet formulas); people audited."""
    return await flag_service.export_csv(
        analyst.session, actor=analyst.actor, secret=analyst.secret, filters=filters
    )
