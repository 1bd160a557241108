"""Subscribe / unsubscribe: acknowledged now, answered at ``on-subscribe`` / ``on-unsubscribe``.

The spec's subscribe and unsubscribe are asynchronous: the ``Response`` ACK now, and the
``SubscribeResponse`` / ``UnSubscribeResponse`` POSTed later to the caller's
``header.sender_uri`` (``/registry/on-subscribe``, ``/registry/on-unsubscribe``), from the job
queue, signed like the death notices (``api.dci.callbacks``). Without a ``sender_uri`` there
is nowhere to call back: the ACK says ``NACK`` ("valid, nothing will follow").

The ACK also carries the answer (the spec's ``Response`` message is an open object): the
one thing only the ACK may carry — each subscription's webhook ``signing_secret`` — never
travels in a request RNU makes to an address, and clients built on the earlier synchronous
answer keep working. The callback carries the same answer without the secrets.

The notices themselves are POSTed as each RENIEC batch loads (``usecases.notifications``).

Criteria: ``reg_event_type`` ``Death`` (the spdci vital event; ``death``, ``event:death`` and
RNU's ``DEATH_REGISTERED`` too); ``notify_record_type`` ``Person`` (or ``Member``); ``filter``
empty or ``programme eq <CODE>`` (one of the agency's own programmes); ``frequency`` is not
offered (a notice per loaded batch). Anything else is refused with the spec's reason code.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.auth.agency import Agency, AgencyDep
from api.dci import callbacks, transactions
from api.dci import envelope as env
from api.dci import query as q
from api.deps import SecretDep, SessionDep, StateDep
from api.state import AppState
from privacy.roles import SCOPE_PERSON_READ
from rnu.agency import service as agency_service
from rnu.agency import webhooks
from rnu.agency.events import SPDCI_DEATH
from rnu.errors import Forbidden, InvalidInput, NotFound, RnuError

router = APIRouter(prefix="/registry", tags=["dci"], route_class=env.DciRoute)
JSON = dict[str, Any]
EVENT_NAMES = {"death", "event:death", "death_registered", "deathregistered", "vitalevent:death"}
RECORD_TYPES = {"person", "member"}
NOTIFY_INVALID = "rjct.notify_details.invalid"


def event_type(raw: object) -> str:
    name = str(raw or "").strip().lower()
    if name.split(":")[-1] in EVENT_NAMES or name in EVENT_NAMES:
        return agency_service.EVENT_DEATH
    raise env.ItemRejected(
        "rjct.notify_types.invalid", f"event {str(raw)[:40]!r} is not offered; subscribe to Death"
    )


def filter_programme(criteria: JSON) -> str | None:
    """The programme a filter names (``programme eq X``), None for no filter; refuse others."""
    raw = criteria.get("filter")
    if raw in (None, "", {}, []):
        return None
    try:
        conditions = q.conditions(raw)
    except env.ItemRejected as exc:
        raise env.ItemRejected(NOTIFY_INVALID, exc.message) from exc
    names = {"programme", "program", "programme_code", "programme_identifier"}
    if len(conditions) != 1 or conditions[0].name.lower() not in names:
        raise env.ItemRejected(NOTIFY_INVALID, "the only filter offered is programme eq <CODE>")
    if conditions[0].operator != "eq":
        raise env.ItemRejected(NOTIFY_INVALID, "the only filter offered is programme eq <CODE>")
    return str(conditions[0].value).upper()


def check_record_type(criteria: JSON) -> str:
    raw = str(criteria.get("notify_record_type") or "Person")
    if raw.split(":")[-1].lower() not in RECORD_TYPES:
        raise env.ItemRejected(NOTIFY_INVALID, f"notify_record_type {raw[:40]}: only Person")
    return "Person"


@router.post("/subscribe", response_model=None, openapi_extra=env.body_doc("SubscribeRequest"))
async def subscribe(
    request: Request, agency: AgencyDep, session: SessionDep, state: StateDep, secret: SecretDep
) -> JSON | JSONResponse:
    """Subscribe to deaths of the agency's own programmes' users (needs person:read too)."""
    agency.require("events:subscribe")
    agency.require(SCOPE_PERSON_READ)  # a death notice is a read of the person
    envelope = await env.read_envelope(request)
    items = env.items_of(envelope.message, "subscribe_request")
    with env.refusing(envelope, "on-subscribe", "subscribe_response"):
        txn = env.transaction_id(envelope.message)
        env.check_header(envelope.header, ("subscribe",), len(items))
        target = await callback_target(state, envelope, callbacks.ON_SUBSCRIBE[0])

    async def handle(item: JSON) -> JSON:
        criteria = item.get("subscribe_criteria")
        if not isinstance(criteria, dict):
            raise env.ItemRejected(NOTIFY_INVALID, "subscribe_criteria must be an object")
        event = event_type(criteria.get("reg_event_type"))
        record_type = check_record_type(criteria)
        if criteria.get("frequency") not in (None, "", {}):
            raise env.ItemRejected(NOTIFY_INVALID, "frequency is not offered: one notice per batch")
        named = criteria.get("programme_code") or criteria.get("program_code")
        program = filter_programme(criteria) or (str(named).upper() if named else None)
        url = criteria.get("notify_url") or criteria.get("callback_url")
        if not url and envelope.header.sender_uri:
            url = envelope.header.sender_uri.rstrip("/") + "/registry/notify"
        if not url:
            raise env.ItemRejected(NOTIFY_INVALID, "give notify_url or header.sender_uri")
        try:
            subscription = await agency_service.subscribe(
                session,
                client=agency.client,
                event_type=event,
                callback_url=str(url),
                program_code=program,
                webhook_policy=state.settings.webhook_policy(),
            )
        except (InvalidInput, Forbidden) as exc:
            raise env.ItemRejected(NOTIFY_INVALID, str(exc)) from exc
        code = str(subscription.id)
        return {
            "subscriptions": [
                {
                    "version": env.VERSION,
                    "code": code,
                    "subscription_code": code,
                    "status": "subscribe",
                    "timestamp": env.now(),
                    "reg_type": "ns:org:RegistryType:IBR",
                    "reg_event_type": SPDCI_DEATH,
                    "notify_record_type": record_type,
                    "subscribe_criteria": criteria,
                    "programme_code": subscription.program_code,
                    "signing_secret": agency_service.signing_secret(secret, subscription),
                }
            ]
        }

    answers = await env.answer_items(items, handle, rejected_code=NOTIFY_INVALID)
    status, _ = env.item_status(answers)
    correlation_id = str(uuid.uuid4())
    done = sum(1 for a in answers if a["status"] == "succ")
    if target is not None:
        await callbacks.queue(
            session,
            agency,
            envelope,
            target,
            txn=txn,
            kind="subscribe",
            action=callbacks.ON_SUBSCRIBE[1],
            status=status,
            correlation_id=correlation_id,
            answers=answers,
            message={
                "transaction_id": txn,
                "correlation_id": correlation_id,
                "subscribe_response": without_secrets(answers),
            },
            total=len(answers),
            done=done,
        )
    else:
        await transactions.record(
            session,
            agency,
            envelope,
            txn=txn,
            kind="subscribe",
            status=status,
            correlation_id=correlation_id,
            answers=answers,
        )
    body = acknowledgement(
        secret, agency, correlation_id, target, transaction_id=txn, subscribe_response=answers
    )
    return {
        "signature": "",
        "header": env.callback_header(
            envelope.header, action="on-subscribe", status=status, total=len(answers), done=done
        ),
        **body,
    }


async def callback_target(
    state: AppState, envelope: env.Envelope, path: str
) -> webhooks.Target | None:
    """Where the answer is called back (None without ``sender_uri``: the ACK is a NACK)."""
    if not envelope.header.sender_uri:
        return None
    return await callbacks.check_sender(state, envelope.header.sender_uri, path)


def acknowledgement(
    secret: bytes,
    agency: Agency,
    correlation_id: str,
    target: webhooks.Target | None,
    **answer: Any,
) -> JSON:
    """The ACK (a callback follows, signed with ``callback_secret``) or NACK, with the answer."""
    if target is None:
        return env.ack(correlation_id, ack_status="NACK", **answer)
    key = callbacks.callback_secret(secret, agency.client_id, correlation_id)
    return env.ack(correlation_id, callback_secret=key, **answer)


def without_secrets(answers: list[JSON]) -> list[JSON]:
    """The subscribe answers as the callback carries them: no signing secrets."""
    out = []
    for answer in answers:
        entry = dict(answer)
        if isinstance(entry.get("subscriptions"), list):
            entry["subscriptions"] = [
                {k: v for k, v in sub.items() if k != "signing_secret"}
                for sub in entry["subscriptions"]
                if isinstance(sub, dict)
            ]
        out.append(entry)
    return out


def subscription_id(code: object) -> int:
    """A subscription code as RNU issues them: a positive int64 (NotFound otherwise)."""
    text = str(code).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 19 or not 1 <= int(text) < 2**63:
        raise NotFound("no such subscription")
    return int(text)


async def _cancel(agency: Agency, session: Any, codes: list[Any]) -> tuple[list[JSON], list[JSON]]:
    done: list[JSON] = []
    refused: list[JSON] = []
    for code in codes[: env.MAX_ITEMS]:
        try:
            await agency_service.unsubscribe(
                session, client=agency.client, subscription_id=subscription_id(code)
            )
            done.append({"code": str(code)[:99], "status": "unsubscribe"})
        except RnuError:
            refused.append(
                {"code": str(code)[:99], "status_reason_code": "rjct.subscription_code.invalid"}
            )
    return done, refused


@router.post("/unsubscribe", response_model=None, openapi_extra=env.body_doc("UnSubscribeRequest"))
async def unsubscribe(
    request: Request, agency: AgencyDep, session: SessionDep, state: StateDep, secret: SecretDep
) -> JSON | JSONResponse:
    """Cancel subscriptions by code (``sunscription_codes``, the spec's typo, also read)."""
    agency.require("events:subscribe")
    envelope = await env.read_envelope(request)
    message = envelope.message
    codes = message.get("subscription_codes") or message.get("sunscription_codes") or []
    stamp = message.get("timestamp") or message.get("timesstamp")
    with env.refusing(envelope, "on-unsubscribe", "subscription_status"):
        txn = env.transaction_id(message)
        env.check_header(
            envelope.header, ("unsubscribe",), len(codes) if isinstance(codes, list) else 1
        )
        if not isinstance(codes, list) or not codes:
            raise env.DciRejected("rjct.action.invalid", "subscription_codes is required")
        if stamp is not None and env.parse_timestamp(stamp) is None:
            raise env.DciRejected("rjct.action.invalid", "timestamp must be ISO 8601 with a zone")
        target = await callback_target(state, envelope, callbacks.ON_UNSUBSCRIBE[0])
    done, refused = await _cancel(agency, session, codes)
    correlation_id = str(uuid.uuid4())
    status = "succ" if done else "rjct"
    answer: JSON = {
        "transaction_id": txn,
        "timestamp": env.now(),
        "status": status,
        "subscription_status": done,
        "rejected_codes": refused,
    }
    if refused:
        answer["status_reason_code"] = "rjct.subscription_code.invalid"
        answer["status_reason_message"] = f"{len(refused)} code(s) are not this agency's"
    if target is not None:
        await callbacks.queue(
            session,
            agency,
            envelope,
            target,
            txn=txn,
            kind="unsubscribe",
            action=callbacks.ON_UNSUBSCRIBE[1],
            status=status,
            correlation_id=correlation_id,
            message={**answer, "correlation_id": correlation_id},
            total=len(codes),
            done=len(done),
        )
    else:
        await transactions.record(
            session,
            agency,
            envelope,
            txn=txn,
            kind="unsubscribe",
            status=status,
            correlation_id=correlation_id,
        )
    return {
        "signature": "",
        "header": env.callback_header(
            envelope.header,
            action="on-unsubscribe",
            status=status,
            total=len(codes),
            done=len(done),
        ),
        **acknowledgement(secret, agency, correlation_id, target, **answer),
    }
