"""One search item answered: the query run, each person through the agency's policy.

``reg_record_type`` decides the record shape (``usecases.dci_records``): ``Person``,
``Group`` (the household, the person as ``member``), ``Member`` (the person inside their
household), ``Beneficiary`` (one IBR record per visible enrolment). Every person returned is
noted for the call's audit rows.
"""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from api.dci import query as q
from api.dci.envelope import VERSION, ItemRejected
from rnu.coverage.models import PersonRecord
from rnu.errors import InvalidInput
from rnu.person import service as person_service
from rnu.person.service import TooManyRecords
from usecases.agency import AgencyReads, PersonRead
from usecases.agency import TooManyRecords as TooManyPeopleThisCall
from usecases.dci_records import (
    beneficiary_records,
    group_record,
    member_record,
    person_record,
)

MAX_MATCHES = 10_000  # an expression matching more is refused: narrow it
REG_TYPE = "ns:org:RegistryType:IBR"
JSON = dict[str, Any]


async def find(
    session: AsyncSession, query: q.SearchQuery, page: q.Page
) -> tuple[list[PersonRecord], int]:
    """The people of one query (one page of them for conditions) and how many match."""
    if isinstance(query, q.ByDocument):
        found = await person_service.get_by_documents(
            session, numbers=[query.number], doc_type=query.doc_type
        )
        people = [p for p in found if p is not None]
        return people, len(people)
    try:
        return await person_service.search(
            session,
            query=query.query,
            page_size=page.size,
            page_number=page.number,
            max_total=MAX_MATCHES,
        )
    except TooManyRecords as exc:
        raise ItemRejected("rjct.search.too_many_records_found", str(exc)) from exc
    except InvalidInput as exc:
        raise ItemRejected(q.INVALID, str(exc)) from exc


def shaped(reads: AgencyReads, read: PersonRead, record_type: str) -> list[JSON]:
    """The records of one person in ``record_type``, noted for the audit."""
    person = person_record(read)
    reads.note(read, person.shown_fields())
    if record_type == "Group":
        household = reads.household(read)
        if household is None:
            return []
        reads.note(read, {f"household.{f}" for f in household.model_dump(exclude_none=True)})
        return [group_record(read, household).model_dump(mode="json", exclude_none=True)]
    if record_type == "Member":
        return [member_record(read).model_dump(mode="json", exclude_none=True)]
    if record_type == "Beneficiary":
        reads.note(read, {"enrollments"})
        return [r.model_dump(mode="json", exclude_none=True) for r in beneficiary_records(read)]
    return [person.model_dump(mode="json", exclude_none=True)]


async def search_item(session: AsyncSession, reads: AgencyReads, item: JSON) -> JSON:
    """The ``data`` and ``pagination`` of one search_request item."""
    criteria = item.get("search_criteria")
    if not isinstance(criteria, dict):
        raise ItemRejected(q.INVALID, "search_criteria must be an object")
    record_type = q.record_type(criteria)
    query = q.search_query(criteria)
    page = q.page(criteria)
    q.check_sort(criteria)
    people, total = await find(session, query, page)
    records: list[JSON] = []
    try:
        found = await reads.people(people)
    except TooManyPeopleThisCall as exc:
        raise ItemRejected("rjct.search.too_many_records_found", str(exc)) from exc
    for read in found:
        if read is not None:
            records += shaped(reads, read, record_type)
    return {
        "data": {
            "version": VERSION,
            "reg_type": REG_TYPE,
            "reg_record_type": record_type,
            "reg_records": records,
        },
        "pagination": {"page_size": page.size, "page_number": page.number, "total_count": total},
    }
