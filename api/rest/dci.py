"""DCI (SP Digital Convergence Initiative) IBR/SR v1.0.0, synchronous subset.

`POST /registry/sync/search`, `/registry/sync/enrolled`, `/registry/sync/enrollment/updates`,
`/registry/sync/txn/status`, `/registry/subscribe` and `/registry/unsubscribe`. Requests and
answers use the DCI envelope (``signature``, ``header``, ``message``); each request item gets
its own ``status`` (succ / rjct / pdng) and ``status_reason_code`` such as
``rjct.search.too_many_records_found``. A header RNU cannot accept is refused with HTTP 400
whose body is both RNU's error shape and a DCI envelope with ``header.status = rjct``.

Lenient where the published specs are inconsistent: ``search_request`` as one object or a
list, ``sunscription_codes`` for ``subscription_codes``, ``txn_status_request`` for
``txnstatus_request``, ``identifier_type``/``identifier_value`` for ``type``/``value``, and
``programme``/``program`` spellings. The field mapping is in ``docs/dci.md``.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from api.auth.agency import Agency, AgencyDep, require_scope
from api.deps import SecretDep, SessionDep, StateDep
from api.errors import error_body
from privacy.roles import SCOPE_PERSON_READ
from rnu.agency import repository as agency_repository
from rnu.agency import service as agency_service
from rnu.agency import uploads
from rnu.coverage.models import PersonRecord
from rnu.errors import Forbidden, InvalidInput, NotFound, RnuError
from rnu.person import service as person_service
from rnu.person.service import PeopleQuery, TooManyRecords
from usecases.agency import AgencyActor, AgencyReads
from usecases.dci_records import group_record, person_record

router = APIRouter(prefix="/registry", tags=["dci"])

VERSION = "1.0.0"
SENDER_ID = "rnu.midis.gob.pe"
MAX_ITEMS = 100  # request items per envelope
MAX_PAGE = 1_000
MAX_MATCHES = 10_000  # an expression matching more is refused: narrow it
POVERTY_SCORE_TYPE = "CSE-SISFOH"
ID_TYPES = {"DNI": "DNI", "CE": "CE", "CUI": "CUI", "UIN": "DNI"}
AUDIT_ACTION = "dci.read"
CanReadPeople = Annotated[Agency, Depends(require_scope(SCOPE_PERSON_READ))]


# ---------------------------------------------------------------------------------------------
# Envelope.


class Lenient(BaseModel):
    model_config = ConfigDict(extra="allow")


class DciHeader(Lenient):
    version: str = VERSION
    message_id: str = Field(min_length=1, max_length=100)
    message_ts: str = Field(min_length=1, max_length=40)
    action: str = Field(min_length=1, max_length=40)
    sender_id: str = Field(min_length=1, max_length=100)
    sender_uri: str | None = Field(default=None, max_length=500)
    receiver_id: str | None = Field(default=None, max_length=100)
    total_count: int = Field(default=1, ge=0)
    is_msg_encrypted: bool = False


class Envelope(Lenient):
    signature: str | None = None
    header: DciHeader
    message: dict[str, Any]


class DciRejected(Exception):
    """A header-level refusal: the whole envelope is rejected with this reason code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ItemRejected(Exception):
    """One request item is rejected; the others are still answered."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _check_header(header: DciHeader, action: str, items: int) -> None:
    if header.version.split(".")[0] != "1":
        raise DciRejected("rjct.version.invalid", f"version {header.version} is not supported")
    if header.action.replace("_", "-").lower() != action:
        raise DciRejected("rjct.action.not_supported", f"this endpoint takes action '{action}'")
    try:
        datetime.fromisoformat(header.message_ts.replace("Z", "+00:00"))
    except ValueError as exc:
        raise DciRejected("rjct.message_ts.invalid", "message_ts must be ISO 8601") from exc
    if header.is_msg_encrypted:
        raise DciRejected("rjct.action.not_supported", "encrypted messages are not supported")
    if items > MAX_ITEMS:
        raise DciRejected(
            "rjct.total_count.limit_exceeded", f"at most {MAX_ITEMS} request items per message"
        )


def response_header(
    request: DciHeader,
    *,
    action: str,
    status: str,
    total: int,
    done: int,
    code: str | None = None,
    message: str | None = None,
) -> dict[str, Any]:
    header: dict[str, Any] = {
        "version": VERSION,
        "message_id": str(uuid.uuid4()),
        "message_ts": _now(),
        "action": action,
        "status": status,
        "total_count": total,
        "completed_count": done,
        "sender_id": SENDER_ID,
        "receiver_id": request.sender_id,
        "is_msg_encrypted": False,
    }
    if code:
        header["status_reason_code"] = code
        header["status_reason_message"] = message or ""
    return header


def rejected_envelope(envelope: Envelope, action: str, exc: DciRejected) -> JSONResponse:
    body = error_body("InvalidInput", exc.message)
    body["signature"] = ""
    body["header"] = response_header(
        envelope.header,
        action=action,
        status="rjct",
        total=0,
        done=0,
        code=exc.code,
        message=exc.message,
    )
    body["message"] = {
        "transaction_id": str(envelope.message.get("transaction_id", "")),
        "correlation_id": str(uuid.uuid4()),
    }
    return JSONResponse(body, status_code=400)


def _items(message: dict[str, Any], *names: str) -> list[dict[str, Any]]:
    for name in names:
        value = message.get(name)
        if isinstance(value, dict):
            return [value]
        if isinstance(value, list):
            return [v for v in value if isinstance(v, dict)]
    return []


def _transaction_id(message: dict[str, Any]) -> str:
    value = str(message.get("transaction_id") or "").strip()
    if not value or len(value) > 99:
        raise DciRejected("rjct.action.invalid", "message.transaction_id is required (≤ 99 chars)")
    return value


# ---------------------------------------------------------------------------------------------
# Records (DCI names ← the privacy policy's output).


def reader(session: AsyncSession, secret: bytes, agency: Agency) -> AgencyReads:
    """The agency's reads for one DCI call: its policy, its audit rows."""
    return AgencyReads(
        session, secret, AgencyActor.of_client(agency.client, agency.purpose), action=AUDIT_ACTION
    )


async def person_records(
    session: AsyncSession,
    secret: bytes,
    agency: Agency,
    people: list[PersonRecord],
    *,
    record_type: str,
) -> list[dict[str, Any]]:
    """DCI person (or household) records for these people, through the agency's policy."""
    reads = reader(session, secret, agency)
    records: list[dict[str, Any]] = []
    for read in await reads.people(people):
        if read is None:
            continue
        record = person_record(read)
        reads.note(read, record.shown_fields())
        if record_type == "GROUP" and read.household is not None:
            group = reads.household(read)
            if group is None:
                continue
            records.append(group_record(read, group).model_dump(mode="json", exclude_none=True))
            continue
        records.append(record.model_dump(mode="json", exclude_none=True))
    await reads.audit()
    return records


# ---------------------------------------------------------------------------------------------
# Queries.


def _idtype_value(query: Any) -> tuple[str, str]:
    if not isinstance(query, dict):
        raise ItemRejected("rjct.search_criteria.invalid", "idtype-value query must be an object")
    if isinstance(query.get("value"), dict) and "type" not in query.get("value", {}):
        query = query["value"]
    raw_type = str(query.get("type") or query.get("identifier_type") or "DNI").upper()
    raw_value = str(query.get("value") or query.get("identifier_value") or "")
    doc_type = ID_TYPES.get(raw_type.split(":")[-1])
    if doc_type is None:
        raise ItemRejected("rjct.search_criteria.invalid", f"identifier type {raw_type} unknown")
    try:
        return doc_type, person_service.normalize_document(raw_value, doc_type)
    except InvalidInput as exc:
        raise ItemRejected("rjct.search_criteria.invalid", str(exc)) from exc


def _conditions(expression: Any) -> list[dict[str, Any]]:
    """Flatten an expression into AND-ed conditions (``or`` is refused)."""
    if isinstance(expression, list):
        return [c for e in expression for c in _conditions(e)]
    if not isinstance(expression, dict):
        raise ItemRejected("rjct.search_criteria.invalid", "expression must be an object")
    if (
        "value" in expression
        and isinstance(expression["value"], dict)
        and ("expression" in expression["value"])
    ):
        return _conditions(expression["value"]["expression"])
    if "expression" in expression:
        return _conditions(expression["expression"])
    if "attribute_name" in expression:
        return [expression]
    if "expression1" in expression:
        if str(expression.get("condition", "and")).lower() != "and":
            raise ItemRejected(
                "rjct.search_criteria.invalid", "only 'and' conditions are supported"
            )
        return _conditions(expression["expression1"]) + _conditions(
            expression.get("expression2", [])
        )
    raise ItemRejected("rjct.search_criteria.invalid", "unrecognised expression")


def people_query(expression: Any) -> PeopleQuery:
    """An expression over poverty_score (CSE-SISFOH), location, programme, period, birth date."""
    values: dict[str, Any] = {}
    for c in _conditions(expression):
        name = str(c.get("attribute_name", "")).lower()
        op = str(c.get("operator", "eq")).lower()
        value = c.get("attribute_value")
        if name == "poverty_score_type":
            if str(value).upper() != POVERTY_SCORE_TYPE:
                raise ItemRejected(
                    "rjct.search_criteria.invalid",
                    f"poverty_score_type must be {POVERTY_SCORE_TYPE}",
                )
        elif name == "poverty_score" and op in ("eq", "in"):
            items = value if isinstance(value, list) else [value]
            values["cse"] = tuple(str(v).upper() for v in items)
        elif name in ("location", "ubigeo", "address.geo") and op in ("eq", "startswith"):
            values["ubigeo_prefix"] = str(value)
        elif name in ("programme", "program", "programme_code") and op == "eq":
            values["program_code"] = str(value).upper()
        elif name in ("period", "enrolment_period", "enrollment_period") and op == "eq":
            values["period"] = str(value)
        elif name == "birth_date" and op in ("lt", "gt"):
            try:
                day = date.fromisoformat(str(value)[:10])
            except ValueError as exc:
                raise ItemRejected(
                    "rjct.search_criteria.invalid", "birth_date must be ISO"
                ) from exc
            values["birth_before" if op == "lt" else "birth_after"] = day
        else:
            raise ItemRejected("rjct.search_criteria.invalid", f"unsupported condition {name} {op}")
    return PeopleQuery(**values)


def _pagination(criteria: dict[str, Any]) -> tuple[int, int]:
    page = criteria.get("pagination") or {}
    try:
        size = int(page.get("page_size", 100))
        number = int(page.get("page_number", 1))
    except (TypeError, ValueError) as exc:
        raise ItemRejected(
            "rjct.pagination.invalid", "page_size/page_number must be numbers"
        ) from exc
    if not 1 <= size <= MAX_PAGE or number < 1:
        raise ItemRejected("rjct.pagination.invalid", f"page_size 1..{MAX_PAGE}, page_number ≥ 1")
    return size, number


async def _search_item(
    session: AsyncSession, secret: bytes, agency: Agency, item: dict[str, Any]
) -> dict[str, Any]:
    criteria = item.get("search_criteria") or {}
    if not isinstance(criteria, dict):
        raise ItemRejected("rjct.search_criteria.invalid", "search_criteria must be an object")
    record_type = str(criteria.get("reg_record_type") or "PERSON").upper()
    if record_type not in ("PERSON", "GROUP", "HOUSEHOLD", "BENEFICIARY"):
        raise ItemRejected("rjct.search_criteria.invalid", f"reg_record_type {record_type}")
    record_type = "GROUP" if record_type in ("GROUP", "HOUSEHOLD") else "PERSON"
    query_type = str(criteria.get("query_type", "")).lower()
    size, number = _pagination(criteria)
    if query_type == "idtype-value":
        doc_type, doc_number = _idtype_value(criteria.get("query"))
        found = await person_service.get_by_documents(
            session, numbers=[doc_number], doc_type=doc_type
        )
        people = [p for p in found if p is not None]
        total = len(people)
    elif query_type == "expression":
        try:
            people, total = await person_service.search(
                session,
                query=people_query(criteria.get("query")),
                page_size=size,
                page_number=number,
                max_total=MAX_MATCHES,
            )
        except TooManyRecords as exc:
            raise ItemRejected("rjct.search.too_many_records_found", str(exc)) from exc
        except InvalidInput as exc:
            raise ItemRejected("rjct.search_criteria.invalid", str(exc)) from exc
    else:
        raise ItemRejected(
            "rjct.search_criteria.invalid", "query_type must be idtype-value or expression"
        )
    records = await person_records(session, secret, agency, people, record_type=record_type)
    return {
        "data": {
            "version": VERSION,
            "reg_type": "ns:org:RegistryType:IBR",
            "reg_record_type": record_type,
            "reg_records": records,
        },
        "pagination": {"page_size": size, "page_number": number, "total_count": total},
    }


async def _answer(items: list[dict[str, Any]], handler: Any) -> tuple[list[dict[str, Any]], int]:
    answers: list[dict[str, Any]] = []
    done = 0
    seen: set[str] = set()
    for item in items:
        reference = str(item.get("reference_id") or "")
        base = {"reference_id": reference, "timestamp": _now(), "locale": "spa"}
        try:
            if not reference or len(reference) > 99:
                raise ItemRejected("rjct.reference_id.invalid", "reference_id is required")
            if reference in seen:
                raise ItemRejected("rjct.reference_id.duplicate", "reference_id repeated")
            seen.add(reference)
            answers.append({**base, "status": "succ", **(await handler(item))})
            done += 1
        except ItemRejected as exc:
            answers.append(
                {
                    **base,
                    "status": "rjct",
                    "status_reason_code": exc.code,
                    "status_reason_message": exc.message,
                }
            )
        except RnuError as exc:
            if isinstance(exc, Forbidden):
                raise
            answers.append(
                {
                    **base,
                    "status": "rjct",
                    "status_reason_code": "rjct.search_criteria.invalid",
                    "status_reason_message": str(exc),
                }
            )
    return answers, done


async def _record_txn(
    session: AsyncSession,
    agency: Agency,
    envelope: Envelope,
    txn: str,
    status: str,
    summary: dict[str, Any],
    upload_id: int | None = None,
) -> None:
    await agency_repository.upsert_transaction(
        session,
        values={
            "client_id": agency.client_id,
            "transaction_id": txn,
            "message_id": envelope.header.message_id,
            "action": envelope.header.action,
            "status": status,
            "reason_code": summary.get("reason_code"),
            "summary": json.dumps(summary),
            "upload_id": upload_id,
        },
    )


def _reply(
    envelope: Envelope, action: str, txn: str, key: str, answers: list[dict[str, Any]], done: int
) -> dict[str, Any]:
    status = "succ" if done == len(answers) else ("rjct" if done == 0 else "succ")
    return {
        "signature": "",
        "header": response_header(
            envelope.header, action=action, status=status, total=len(answers), done=done
        ),
        "message": {"transaction_id": txn, "correlation_id": str(uuid.uuid4()), key: answers},
    }


# ---------------------------------------------------------------------------------------------
# Endpoints.


async def _itemised(
    session: AsyncSession,
    agency: Agency,
    envelope: Envelope,
    *,
    action: str,
    request_keys: tuple[str, ...],
    response_key: str,
    handle: Any,
) -> dict[str, Any] | JSONResponse:
    """The shape every per-item sync call shares: validate the envelope, answer each item,
    record the transaction, reply as `on-<action>`."""
    items = _items(envelope.message, *request_keys)
    try:
        txn = _transaction_id(envelope.message)
        _check_header(envelope.header, action, len(items))
    except DciRejected as exc:
        return rejected_envelope(envelope, f"on-{action}", exc)
    answers, done = await _answer(items, handle)
    await _record_txn(
        session,
        agency,
        envelope,
        txn,
        "succ" if done else "rjct",
        {"items": len(answers), "succeeded": done, "kind": action},
    )
    return _reply(envelope, f"on-{action}", txn, response_key, answers, done)


@router.post("/sync/search", response_model=None)
async def sync_search(
    envelope: Envelope, agency: CanReadPeople, session: SessionDep, secret: SecretDep
) -> dict[str, Any] | JSONResponse:
    """Search people or households by identifier or by expression (CSE-SISFOH, place…)."""

    async def handle(item: dict[str, Any]) -> dict[str, Any]:
        return await _search_item(session, secret, agency, item)

    return await _itemised(
        session,
        agency,
        envelope,
        action="search",
        request_keys=("search_request",),
        response_key="search_response",
        handle=handle,
    )


@router.post("/sync/enrolled", response_model=None)
async def sync_enrolled(
    envelope: Envelope, agency: CanReadPeople, session: SessionDep, secret: SecretDep
) -> dict[str, Any] | JSONResponse:
    """Which programmes a person is enrolled in (optionally in one period)."""

    async def handle(item: dict[str, Any]) -> dict[str, Any]:
        criteria = item.get("enrolled_criteria") or item.get("search_criteria") or item
        query = criteria.get("query", criteria) if isinstance(criteria, dict) else criteria
        doc_type, number = _idtype_value(query)
        period = criteria.get("period") if isinstance(criteria, dict) else None
        try:
            person_service.check_period(period)
        except InvalidInput as exc:
            raise ItemRejected("rjct.search_criteria.invalid", str(exc)) from exc
        found = [
            p
            for p in await person_service.get_by_documents(
                session, numbers=[number], doc_type=doc_type
            )
            if p is not None
        ]
        records = await person_records(session, secret, agency, found, record_type="PERSON")
        programmes = records[0]["programmes"] if records else []
        enrollments = (
            (
                await person_service.enrollments_by_person_ids(
                    session, person_ids=[found[0].id], period=period
                )
            )[0]
            if found
            else []
        )
        rows = [
            {"programme_code": e.program_code, "period": e.period, "status": e.status}
            for e in enrollments
            if e.program_code in programmes
        ]
        return {
            "data": {
                "version": VERSION,
                "identifier": {"identifier_type": doc_type, "identifier_value": number},
                "is_enrolled": bool(rows),
                "enrollments": rows,
            }
        }

    return await _itemised(
        session,
        agency,
        envelope,
        action="enrolled",
        request_keys=("enrolled_request", "search_request"),
        response_key="enrolled_response",
        handle=handle,
    )


@router.post("/sync/enrollment/updates", response_model=None)
async def sync_enrollment_updates(
    envelope: Envelope, agency: AgencyDep, session: SessionDep, state: StateDep
) -> dict[str, Any] | JSONResponse:
    """A programme pushes its enrolments for a period; they load like an uploaded roll."""
    items = _items(envelope.message, "enrollment_updates", "enrolment_updates", "update_request")
    try:
        txn = _transaction_id(envelope.message)
        _check_header(envelope.header, "enrollment-updates", len(items))
    except DciRejected as exc:
        return rejected_envelope(envelope, "on-enrollment-updates", exc)
    upload_ids: list[int] = []

    async def handle(item: dict[str, Any]) -> dict[str, Any]:
        code = str(
            item.get("programme_code") or item.get("program_code") or item.get("programme_id") or ""
        ).upper()
        period = str(item.get("period") or "")
        records = item.get("records") or item.get("beneficiaries") or item.get("reg_records")
        if isinstance(records, dict):
            records = [records]
        if not code or not isinstance(records, list) or not records:
            raise ItemRejected(
                "rjct.search_criteria.invalid", "programme_code, period and records are required"
            )
        try:
            person_service.check_period(period)
        except InvalidInput as exc:
            raise ItemRejected("rjct.search_criteria.invalid", str(exc)) from exc
        if len(records) > 100_000:
            raise ItemRejected("rjct.total_count.limit_exceeded", "at most 100,000 records")
        uploads.check_can_upload(agency.client, code)
        folder = state.settings.data_dir / "cargas" / f"dci-{uuid.uuid4().hex[:16]}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{code.lower()}_{period.replace('-', '')}.jsonl"
        lines = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records)
        size = await asyncio.to_thread(path.write_text, lines, encoding="utf-8")
        upload = await uploads.create(
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
        upload_ids.append(upload.id)
        return {"status": "pdng", "data": {"upload_id": upload.id, "records": len(records)}}

    answers, done = await _answer(items, handle)
    await _record_txn(
        session,
        agency,
        envelope,
        txn,
        "pdng" if done else "rjct",
        {"items": len(answers), "accepted": done, "kind": "enrollment-updates"},
        upload_id=upload_ids[0] if upload_ids else None,
    )
    return _reply(
        envelope, "on-enrollment-updates", txn, "enrollment_updates_response", answers, done
    )


@router.post("/sync/txn/status", response_model=None)
async def sync_txn_status(
    envelope: Envelope, agency: AgencyDep, session: SessionDep
) -> dict[str, Any] | JSONResponse:
    """The outcome of an earlier transaction of this agency (uploads: pdng until loaded)."""
    request = (_items(envelope.message, "txnstatus_request", "txn_status_request") or [{}])[0]
    try:
        txn = _transaction_id(envelope.message)
        _check_header(envelope.header, "txn-status", 1)
    except DciRejected as exc:
        return rejected_envelope(envelope, "txn-on-status", exc)
    wanted = str(request.get("attribute_value") or request.get("transaction_id") or "")
    found = await agency_repository.get_transaction(
        session, client_id=agency.client_id, transaction_id=wanted
    )
    if found is None:
        status: dict[str, Any] = {
            "transaction_id": wanted,
            "status": "rjct",
            "status_reason_code": "rjct.reference_id.invalid",
            "status_reason_message": "no such transaction",
        }
    else:
        state, summary = found.status, dict(found.summary)
        if found.upload_id is not None:
            upload = await agency_repository.get_upload(session, upload_id=found.upload_id)
            if upload is not None:
                state = {"done": "succ", "failed": "rjct"}.get(upload.status, "pdng")
                summary.update(
                    {
                        "upload_status": upload.status,
                        "counts": upload.counts,
                        "rows_done": upload.rows_done,
                    }
                )
        status = {
            "transaction_id": found.transaction_id,
            "status": state,
            "action": found.action,
            "summary": summary,
            "timestamp": found.created_at.isoformat(),
        }
    return {
        "signature": "",
        "header": response_header(
            envelope.header, action="txn-on-status", status="succ", total=1, done=1
        ),
        "message": {
            "transaction_id": txn,
            "correlation_id": str(uuid.uuid4()),
            "txnstatus_response": {
                "txn_type": str(request.get("txn_type") or "search"),
                "txn_status": status,
            },
        },
    }


@router.post("/subscribe", response_model=None)
async def subscribe(
    envelope: Envelope,
    agency: AgencyDep,
    session: SessionDep,
    state: StateDep,
    secret: SecretDep,
) -> dict[str, Any] | JSONResponse:
    """Subscribe to DEATH_REGISTERED: RNU POSTs a signed `notify` to the callback URL."""
    agency.require("events:subscribe")
    agency.require(SCOPE_PERSON_READ)  # a death notice is a read of the person

    async def handle(item: dict[str, Any]) -> dict[str, Any]:
        criteria = item.get("subscribe_criteria") or {}
        event = str(criteria.get("reg_event_type") or "").upper()
        url = (
            criteria.get("notify_url") or criteria.get("callback_url") or envelope.header.sender_uri
        )
        if event != agency_service.EVENT_DEATH:
            raise ItemRejected("rjct.notify_types.invalid", "only DEATH_REGISTERED is offered")
        if not url:
            raise ItemRejected("rjct.notify_details.invalid", "give notify_url or sender_uri")
        program = criteria.get("programme_code") or criteria.get("program_code")
        try:
            subscription = await agency_service.subscribe(
                session,
                client=agency.client,
                event_type=event,
                callback_url=str(url),
                program_code=str(program).upper() if program else None,
                webhook_policy=state.settings.webhook_policy(),
            )
        except (InvalidInput, Forbidden) as exc:
            raise ItemRejected("rjct.notify_details.invalid", str(exc)) from exc
        return {
            "subscriptions": [
                {
                    "code": str(subscription.id),
                    "status": "subscribe",
                    "timestamp": _now(),
                    "reg_event_type": event,
                    "programme_code": subscription.program_code,
                    "signing_secret": agency_service.signing_secret(secret, subscription),
                }
            ]
        }

    return await _itemised(
        session,
        agency,
        envelope,
        action="subscribe",
        request_keys=("subscribe_request",),
        response_key="subscribe_response",
        handle=handle,
    )


def subscription_id(code: object) -> int:
    """A subscription code as RNU issues them: a positive int64 (NotFound otherwise)."""
    text = str(code).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 19 or not 1 <= int(text) < 2**63:
        raise NotFound("no such subscription")
    return int(text)


@router.post("/unsubscribe", response_model=None)
async def unsubscribe(
    envelope: Envelope, agency: AgencyDep, session: SessionDep
) -> dict[str, Any] | JSONResponse:
    """Cancel subscriptions by code (``sunscription_codes``, the spec's typo, also accepted)."""
    agency.require("events:subscribe")
    codes = (
        envelope.message.get("subscription_codes")
        or envelope.message.get("sunscription_codes")
        or []
    )
    try:
        txn = _transaction_id(envelope.message)
        _check_header(envelope.header, "unsubscribe", len(codes) if isinstance(codes, list) else 1)
        if not isinstance(codes, list) or not codes:
            raise DciRejected("rjct.action.invalid", "subscription_codes is required")
    except DciRejected as exc:
        return rejected_envelope(envelope, "on-unsubscribe", exc)
    statuses = []
    for code in codes:
        try:
            await agency_service.unsubscribe(
                session, client=agency.client, subscription_id=subscription_id(code)
            )
            statuses.append({"code": str(code), "status": "unsubscribe"})
        except RnuError:
            statuses.append(
                {
                    "code": str(code),
                    "status": "rjct",
                    "status_reason_code": "rjct.subscription_code.invalid",
                }
            )
    return {
        "signature": "",
        "header": response_header(
            envelope.header,
            action="on-unsubscribe",
            status="succ",
            total=len(statuses),
            done=len(statuses),
        ),
        "message": {
            "transaction_id": txn,
            "correlation_id": str(uuid.uuid4()),
            "timestamp": _now(),
            "status": "succ",
            "subscription_status": statuses,
        },
    }
