"""Enrolment: is a person a beneficiary (``enrolled``), and a programme's roll pushed in
(``enrollment updates``).

**Enrolled** (``/registry/sync/enrolled``, also ``/registry/enrolled`` as the IBR file names
it, whose header action is ``search``): the spec's ``enrolled_criteria`` (one object; it has
no reference id, so the answer's item uses the transaction id) or RNU's ``enrolled_request[]``
list. Each item answers ``enrolled_status`` ``yes``/``no`` — ``no`` as well for a person the
agency may not see, or one enrolled only in a programme its policy hides (Contigo without
the sensitive scope) — and, as the IBR asks, ``Beneficiary`` records of the visible
enrolments (``programme_identifier``, ``enrollment_status``, ``benefits``, ``member``).

**Enrollment updates** (``/registry/sync/enrollment/updates``, ``/registry/receipts``): the
spec's ``notify`` with ``enrolled_updates`` (or ``receipt_information``) ``{receipt_type,
beneficiaries[]}`` → ``enrolled_response[]``, one item per programme and period found in the
beneficiaries; RNU's ``enrollment_updates[]`` list stays as an extension. The beneficiaries
are stored as a JSON-lines file and loaded by the job queue like an uploaded roll (``pdng``
until loaded; ``txn/status`` reports the outcome).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import defaultdict
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlmodel.ext.asyncio.session import AsyncSession

from api.auth.agency import Agency, AgencyDep, agency_reads, require_scope
from api.dci import envelope as env
from api.dci import query as q
from api.dci import transactions
from api.deps import SecretDep, SessionDep, StateDep
from api.state import AppState
from privacy.roles import SCOPE_PERSON_READ
from rnu.agency import uploads
from rnu.eligibility.rules import load_programs
from rnu.errors import InvalidInput
from rnu.person import service as person_service
from usecases import loads
from usecases.agency import AgencyReads
from usecases.dci_records import beneficiary_records

router = APIRouter(prefix="/registry", tags=["dci"], route_class=env.DciRoute)
CanReadPeople = Annotated[Agency, Depends(require_scope(SCOPE_PERSON_READ))]
JSON = dict[str, Any]
AUDIT_ACTION = "dci.read"
MAX_RECORDS = 100_000
IDENTIFIER_NAMES = {"person_identifier", "identifier", "uin", "dni", "cui", "ce", "nid"}
LOADABLE_RECEIPTS = {"", "REGISTER", "ENROLLMENT", "ENROLMENT"}


# ---------------------------------------------------------------------------------------------
# Enrolled.


def _as_object(query: Any) -> Any:
    if isinstance(query, str):  # the spec's own example gives the query as a JSON string
        try:
            return json.loads(query)
        except ValueError as exc:
            raise q.refuse("the query is not valid JSON") from exc
    return query


def enrolled_query(criteria: JSON) -> q.ByDocument:
    """The person asked about: an idtype-value query or a ``person_identifier eq`` condition."""
    query = _as_object(criteria.get("query", criteria))
    if isinstance(query, dict) and ("type" in query or "identifier_type" in query):
        return q.by_document(query)
    conditions = q.conditions(query)
    ids = [c for c in conditions if c.name.lower() in IDENTIFIER_NAMES and c.operator == "eq"]
    if len(ids) != 1 or len(conditions) != 1:
        raise q.refuse("ask about one person: person_identifier eq <DNI>")
    doc_type = ids[0].name.upper() if ids[0].name.upper() in q.ID_TYPES else "DNI"
    return q.by_document({"type": doc_type, "value": ids[0].value})


async def enrolled_item(session: AsyncSession, reads: AgencyReads, item: JSON) -> JSON:
    criteria = item.get("enrolled_criteria") or item.get("search_criteria") or item
    if not isinstance(criteria, dict):
        raise q.refuse("enrolled_criteria must be an object")
    who = enrolled_query(criteria)
    period = criteria.get("period")
    try:
        person_service.check_period(period)
    except InvalidInput as exc:
        raise q.refuse(str(exc)) from exc
    [read] = await reads.by_documents([who.number], doc_type=who.doc_type, period=period)
    records = beneficiary_records(read) if read is not None else []
    if read is not None:
        reads.note(read, {"enrollments"} | set(records[0].member.shown_fields() if records else ()))
    return {
        "enrolled_status": "yes" if records else "no",
        "data": {
            "version": env.VERSION,
            "reg_record_type": "Beneficiary",
            "reg_records": [r.model_dump(mode="json", exclude_none=True) for r in records],
            # RNU's earlier answer, kept for clients built on it.
            "is_enrolled": bool(records),
            "enrollments": [
                {"programme_code": e.program_code, "period": e.period, "status": e.status}
                for e in (read.enrollments if read else ())
            ],
        },
    }


def enrolled_items(message: JSON, txn: str) -> list[JSON]:
    if isinstance(message.get("enrolled_criteria"), dict):
        return [{"reference_id": txn, "enrolled_criteria": message["enrolled_criteria"]}]
    return env.items_of(message, "enrolled_request", "search_request")


async def _enrolled(
    request: Request, agency: Agency, session: AsyncSession, secret: bytes, state: AppState
) -> JSON | JSONResponse:
    envelope = await env.read_envelope(request)
    with env.refusing(envelope, "on-enrolled", "enrolled_response"):
        txn = env.transaction_id(envelope.message)
        items = enrolled_items(envelope.message, txn)
        env.check_header(envelope.header, ("enrolled", "search"), len(items))
    # one person per item: that is all the call reserves of the agency's record quota
    wanted = len(items)
    async with agency_reads(
        state, agency, session, secret, action=AUDIT_ACTION, wanted=wanted
    ) as reads:

        async def handle(item: JSON) -> JSON:
            return await enrolled_item(session, reads, item)

        answers = await env.answer_items(items, handle, rejected_code=q.INVALID)
        for a in answers:
            a.setdefault("enrolled_status", "no")
        await reads.audit()
    return await transactions.answered(
        session,
        agency,
        envelope,
        txn=txn,
        kind="enrolled",
        action="on-enrolled",
        response_key="enrolled_response",
        answers=answers,
    )


@router.post("/sync/enrolled", response_model=None, openapi_extra=env.body_doc("EnrolledRequest"))
async def sync_enrolled(
    request: Request,
    agency: CanReadPeople,
    session: SessionDep,
    secret: SecretDep,
    state: StateDep,
) -> JSON | JSONResponse:
    """Is this person a beneficiary (``enrolled_status`` yes/no), and of which programmes."""
    return await _enrolled(request, agency, session, secret, state)


@router.post("/enrolled", response_model=None, openapi_extra=env.body_doc("EnrolledRequest"))
async def enrolled(
    request: Request,
    agency: CanReadPeople,
    session: SessionDep,
    secret: SecretDep,
    state: StateDep,
) -> JSON | JSONResponse:
    """The same as ``/registry/sync/enrolled``, at the path the IBR file gives it."""
    return await _enrolled(request, agency, session, secret, state)


# ---------------------------------------------------------------------------------------------
# Enrollment updates.


def _text(value: Any) -> str | None:
    return str(value).strip() if isinstance(value, str | int) and str(value).strip() else None


def _obj(value: Any) -> JSON:
    return value if isinstance(value, dict) else {}


def _iso_day(value: Any) -> str | None:
    """``1980-04-12``, ``1980-04-12T00:00`` or the spec sample's ``02.05.2004`` → ISO date."""
    text = _text(value)
    if text is None:
        return None
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        pass
    try:
        return datetime.strptime(text[:10], "%d.%m.%Y").date().isoformat()
    except ValueError:
        return text  # the loader rejects it with its reason code


def flat_beneficiary(beneficiary: JSON) -> JSON:
    """An IBR Beneficiary (or a flat RNU record) as the loader's flat record."""
    member = _obj(beneficiary.get("member"))
    if not member:
        return beneficiary
    person = _obj(_obj(member.get("demographic_info")).get("person"))
    ids = person.get("identifier") or member.get("member_identifier") or []
    first = _obj(ids[0]) if isinstance(ids, list) and ids else person
    name = _obj(person.get("name"))
    given = " ".join(
        p for p in (_text(name.get("first_name")), _text(name.get("second_name"))) if p
    )
    geo = _obj(_obj(person.get("address")).get("geo"))
    return {
        "identifier_type": _text(first.get("identifier_type")),
        "identifier_value": _text(first.get("identifier_value")),
        "given_name": _text(name.get("given_name")) or given or None,
        "surname": _text(name.get("surname")),
        "second_surname": _text(name.get("second_surname")),
        "birth_date": _iso_day(person.get("birth_date")),
        "sex": _text(person.get("sex")),
        "ubigeo": _text(geo.get("ubigeo")) or _text(beneficiary.get("ubigeo")),
        "assistance_unit": _text(beneficiary.get("assistance_unit")),
    }


def _programme_and_period(beneficiary: JSON, default_period: str | None) -> tuple[str, str]:
    block = _obj(beneficiary.get("programme_identifier")) or _obj(
        _obj(beneficiary.get("member")).get("programme_identifier")
    )
    programme = _obj(block.get("programme")) or block
    code = _text(programme.get("programme_identifier")) or _text(beneficiary.get("programme_code"))
    benefits = _obj(block.get("benefits"))
    day = _iso_day(benefits.get("benefit_date")) or _iso_day(block.get("enrolment_date"))
    period = default_period or (day[:7] if day and day[4:5] == "-" else "")
    return (code or "").upper(), period


def spec_groups(updates: JSON, txn: str) -> list[JSON]:
    """The spec's ``{receipt_type, beneficiaries[]}`` as one item per programme and period."""
    receipt = str(updates.get("receipt_type") or "").upper()
    if receipt not in LOADABLE_RECEIPTS:
        raise env.DciRejected(
            "rjct.action.not_supported",
            f"receipt_type {receipt[:20]}: RNU takes a period's whole roll; send REGISTER",
        )
    beneficiaries = updates.get("beneficiaries")
    if not isinstance(beneficiaries, list) or not beneficiaries:
        raise env.DciRejected("rjct.action.invalid", "enrolled_updates.beneficiaries is empty")
    period = _text(updates.get("period"))
    groups: dict[tuple[str, str], list[JSON]] = defaultdict(list)
    for b in beneficiaries:
        if isinstance(b, dict):
            groups[_programme_and_period(b, period)].append(flat_beneficiary(b))
    return [
        {
            "reference_id": f"{txn}:{code or '-'}:{p or '-'}",
            "programme_code": code,
            "period": p,
            "records": records,
        }
        for (code, p), records in groups.items()
    ]


async def store_roll(state: AppState, session: AsyncSession, agency: Agency, item: JSON) -> JSON:
    """One programme's roll for a period, stored and queued for loading (``pdng``)."""
    code = str(
        item.get("programme_code") or item.get("program_code") or item.get("programme_id") or ""
    ).upper()
    period = str(item.get("period") or "")
    records = item.get("records") or item.get("beneficiaries") or item.get("reg_records")
    if isinstance(records, dict):
        records = [records]
    if not code or not isinstance(records, list) or not records:
        raise q.refuse("programme_code, period and records are required")
    try:
        person_service.check_period(period)
    except InvalidInput as exc:
        raise q.refuse(f"period: {exc}") from exc
    if len(records) > MAX_RECORDS:
        raise q.refuse(f"at most {MAX_RECORDS:,} records", "rjct.total_count.limit_exceeded")
    if code not in load_programs():
        raise q.refuse(f"programme {code[:20]} is not one RNU keeps rolls of")
    uploads.check_can_upload(agency.client, code)
    records = [flat_beneficiary(r) if isinstance(r, dict) else r for r in records]
    folder = state.settings.data_dir / "cargas" / f"dci-{uuid.uuid4().hex[:16]}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{code.lower()}_{period.replace('-', '')}.jsonl"
    lines = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records)
    size = await asyncio.to_thread(path.write_text, lines, encoding="utf-8")
    upload = await loads.accept_upload(
        session,
        client=agency.client,
        program_code=code,
        period=period,
        file_name=path.name,
        stored_path=folder.absolute() / path.name,
        size_bytes=size,
        channel="dci",
    )
    assert upload.id is not None
    return {"status": "pdng", "data": {"upload_id": upload.id, "records": len(records)}}


async def _updates(
    request: Request, agency: Agency, session: AsyncSession, state: AppState
) -> JSON | JSONResponse:
    envelope = await env.read_envelope(request)
    message = envelope.message
    spec = message.get("enrolled_updates") or message.get("receipt_information")
    with env.refusing(envelope, "on-notify", "enrolled_response"):
        txn = env.transaction_id(message)
        if isinstance(spec, dict):
            items = spec_groups(spec, txn)
        else:
            items = env.items_of(
                message, "enrollment_updates", "enrolment_updates", "update_request"
            )
        actions = ("notify", "register", "enrollment-updates", "enrolment-updates")
        env.check_header(envelope.header, actions, len(items))
    uploaded: list[int] = []

    async def handle(item: JSON) -> JSON:
        answer = await store_roll(state, session, agency, item)
        uploaded.append(int(answer["data"]["upload_id"]))
        return answer

    answers = await env.answer_items(items, handle, rejected_code=q.INVALID)
    return await transactions.answered(
        session,
        agency,
        envelope,
        txn=txn,
        kind="enrollment-updates",
        action="on-notify",
        response_key="enrolled_response",
        answers=answers,
        upload_id=uploaded[0] if uploaded else None,
        extra={"enrollment_updates_response": answers},  # RNU's earlier key
    )


@router.post(
    "/sync/enrollment/updates",
    response_model=None,
    openapi_extra=env.body_doc("EnrollmentUpdatesRequest"),
)
async def sync_enrollment_updates(
    request: Request, agency: AgencyDep, session: SessionDep, state: StateDep
) -> JSON | JSONResponse:
    """A programme pushes its beneficiaries for a period; they load like an uploaded roll."""
    return await _updates(request, agency, session, state)


@router.post("/receipts", response_model=None, openapi_extra=env.body_doc("ReceiptRequest"))
async def receipts(
    request: Request, agency: AgencyDep, session: SessionDep, state: StateDep
) -> JSON | JSONResponse:
    """The IBR's ``receipts`` (receipt_information): the same as enrollment updates."""
    return await _updates(request, agency, session, state)
