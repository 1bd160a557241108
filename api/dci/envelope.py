"""The DCI envelope: reading a request, checking its header, building answers and errors.

Every DCI message is ``{signature, header, message}``. Requests carry ``MsgHeader_V1.0.0``
(``message_id``, ``message_ts``, ``action``, ``sender_id``, ``total_count`` required); answers
carry ``MsgCallbackHeader_V1.0.0`` (``status`` required). Failures on the DCI routes are in
the spec's shapes, never RNU's ``{error, detail, mensaje}``:

* transport errors (no or wrong Content-Type → 415, a body that is not JSON or not an
  envelope → 400, no key 401, no scope 403, too many requests 429, 5xx) are the spec's
  ``HttpErrorResponse``: ``{"errors": [{"code": "err.request.bad", "message": …}]}``;
* a header RNU cannot accept is a 400 envelope whose callback header has ``status: rjct`` and
  a ``MsgHeaderStatusReasonCode`` (``rjct.version.invalid``, ``rjct.action.not_supported`` …);
* a request item RNU cannot answer gets ``status: rjct`` and the endpoint's reason code, and
  the other items are still answered.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.exceptions import HTTPException

from rnu.errors import (
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    RnuError,
    ServiceUnavailable,
)

log = logging.getLogger("rnu.api.dci")

VERSION = "1.0.0"
SENDER_ID = "rnu.midis.gob.pe"
MAX_ITEMS = 100  # request items per envelope
MAX_BODY = 5 * 1024 * 1024
LOCALE = re.compile(r"^[a-z]{3}$")  # ISO 639-3, as the spec's LanguageCode
DEFAULT_LOCALE = "spa"
JSON = dict[str, Any]

HTTP_CODES = {
    400: "err.request.bad",
    401: "err.request.unauthorized",
    403: "err.request.forbidden",
    404: "err.request.not_found",
    408: "err.request.timeout",
    413: "err.request.bad",
    415: "err.request.bad",
    429: "err.request.too_many_requests",
}


# ---------------------------------------------------------------------------------------------
# Request shapes (lenient: extra fields are kept, the spec allows extensions).


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
    # The spec's own examples send "1" (a string) where the schema says integer.
    total_count: int = Field(default=1, ge=0)
    is_msg_encrypted: bool = False

    @field_validator("sender_uri", mode="before")
    @classmethod
    def _empty_uri(cls, value: object) -> object:
        return None if value == "" else value


class Envelope(Lenient):
    signature: str | None = None
    header: DciHeader
    message: JSON


class DciHttpError(Exception):
    """A transport-level refusal: answered as the spec's HttpErrorResponse."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or HTTP_CODES.get(status, "err.request.bad")
        self.message = message


class DciRejected(Exception):
    """A header-level refusal: the whole envelope is rejected with this reason code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Refused(Exception):
    """A finished refusal (a rejected envelope) to answer as it is."""

    def __init__(self, response: JSONResponse) -> None:
        super().__init__("refused")
        self.response = response


class ItemRejected(Exception):
    """One request item is rejected; the others are still answered."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def now() -> str:
    return datetime.now(UTC).isoformat()


async def read_envelope(request: Request) -> Envelope:
    """The request's envelope; DciHttpError (415/400) for anything that is not one."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise DciHttpError(415, "send the envelope as application/json")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise DciHttpError(413, f"the envelope is larger than {MAX_BODY // (1024 * 1024)} MiB")
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise DciHttpError(400, "the body is not valid JSON") from exc
    if isinstance(data, dict) and "header" not in data and isinstance(data.get("headers"), dict):
        data["header"] = data.pop("headers")  # a spelling in the spec's own samples
    try:
        return Envelope.model_validate(data)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
        raise DciHttpError(400, "not a DCI envelope; check: " + ", ".join(fields)) from exc


def check_header(header: DciHeader, actions: Sequence[str], items: int) -> None:
    """Refuse a header RNU cannot accept (DciRejected with a MsgHeaderStatusReasonCode)."""
    if header.version.split(".")[0] != "1":
        raise DciRejected("rjct.version.invalid", f"version {header.version} is not supported")
    action = header.action.replace("_", "-").lower()
    if action not in actions:
        raise DciRejected(
            "rjct.action.not_supported", f"this endpoint takes action {' or '.join(actions)}"
        )
    if parse_timestamp(header.message_ts) is None:
        raise DciRejected("rjct.message_ts.invalid", "message_ts must be ISO 8601 with a zone")
    if header.is_msg_encrypted:
        raise DciRejected("rjct.action.not_supported", "encrypted messages are not supported")
    if items > MAX_ITEMS:
        raise DciRejected(
            "rjct.total_count.limit_exceeded", f"at most {MAX_ITEMS} request items per message"
        )


def parse_timestamp(value: object) -> datetime | None:
    """An ISO 8601 date-time with its zone (as the spec's DateTime), or None."""
    if not isinstance(value, str) or not 10 < len(value) <= 40:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def transaction_id(message: JSON) -> str:
    value = message.get("transaction_id")
    text = str(value).strip() if isinstance(value, str | int) else ""
    if not text or len(text) > 99:
        raise DciRejected("rjct.action.invalid", "message.transaction_id is required (≤ 99 chars)")
    return text


def items_of(message: JSON, *names: str) -> list[JSON]:
    """The request items under the first of ``names`` present (one object or a list)."""
    for name in names:
        value = message.get(name)
        if isinstance(value, dict):
            return [value]
        if isinstance(value, list):
            return [v for v in value if isinstance(v, dict)]
    return []


def item_locale(item: JSON, code: str) -> str:
    """The item's ``locale`` (ISO 639-3), RNU's default when absent; ItemRejected if malformed.

    The spec has no reason code for a bad locale: the endpoint's criteria code is used.
    """
    value = item.get("locale")
    if value in (None, ""):
        return DEFAULT_LOCALE
    if not isinstance(value, str) or not LOCALE.match(value):
        raise ItemRejected(code, "locale must be a three-letter ISO 639-3 code, e.g. spa")
    return value


# ---------------------------------------------------------------------------------------------
# Answers.


def callback_header(
    request: DciHeader | None,
    *,
    action: str,
    status: str,
    total: int,
    done: int,
    code: str | None = None,
    message: str | None = None,
) -> JSON:
    """A MsgCallbackHeader_V1.0.0 answering ``request`` (``status`` is required)."""
    header: JSON = {
        "version": VERSION,
        "message_id": str(uuid.uuid4()),
        "message_ts": now(),
        "action": action,
        "status": status,
        "total_count": total,
        "completed_count": done,
        "sender_id": SENDER_ID,
        "is_msg_encrypted": False,
    }
    if request is not None:
        header["receiver_id"] = request.sender_id
    if code:
        header["status_reason_code"] = code
        header["status_reason_message"] = (message or "")[:999]
    return header


def reply(header: JSON, message: JSON) -> JSON:
    """A whole answer; RNU authenticates with the agency key and leaves ``signature`` empty."""
    return {"signature": "", "header": header, "message": message}


def item_status(items: Sequence[JSON]) -> tuple[str, int]:
    """The header status of answered items: succ if any succeeded, else rjct."""
    done = sum(1 for i in items if i.get("status") in ("succ", "pdng", "rcvd"))
    return ("succ" if done or not items else "rjct"), len(items)


def rejected(
    envelope: Envelope, action: str, response_key: str, exc: DciRejected, *, status: int = 400
) -> JSONResponse:
    """A header-level refusal: an envelope with ``status: rjct`` and the reason code."""
    txn = str(envelope.message.get("transaction_id") or "")[:99]
    correlation_id = str(uuid.uuid4())
    empty: Any = []
    if response_key == "txnstatus_response":  # an object in the spec, not a list of items
        found = {"transaction_id": txn, "correlation_id": correlation_id, "search_response": []}
        empty = {"txn_type": "search", "txn_status": found}
    body = reply(
        callback_header(
            envelope.header,
            action=action,
            status="rjct",
            total=0,
            done=0,
            code=exc.code,
            message=exc.message,
        ),
        {"transaction_id": txn, "correlation_id": correlation_id, response_key: empty},
    )
    return JSONResponse(body, status_code=status)


@contextmanager
def refusing(envelope: Envelope, action: str, response_key: str) -> Iterator[None]:
    """Header checks inside: a DciRejected becomes the rejected envelope (via Refused)."""
    try:
        yield
    except DciRejected as exc:
        raise Refused(rejected(envelope, action, response_key, exc)) from exc


def ack(correlation_id: str, *, ack_status: str = "ACK", **extension: Any) -> JSON:
    """The spec's acknowledgement (``Response``): ``ACK`` — a callback will follow — or
    ``NACK`` — valid, and nothing will follow (no ``sender_uri`` to call back).

    ``extension``: members beside the spec's (the schema's message is an open object): the
    ``callback_secret`` the callback will be signed with, RNU's answer for clients that want
    it now.
    """
    message: JSON = {"ack_status": ack_status, "timestamp": now(), "correlation_id": correlation_id}
    return {"message": {**message, **extension}}


def http_error(status: int, message: str, code: str | None = None) -> JSONResponse:
    """The spec's HttpErrorResponse."""
    body = {
        "errors": [{"code": code or HTTP_CODES.get(status, "err.request.bad"), "message": message}]
    }
    return JSONResponse(body, status_code=status)


# ---------------------------------------------------------------------------------------------
# The item loop.


Handler = Callable[[JSON], Awaitable[JSON]]


async def answer_items(items: Sequence[JSON], handle: Handler, *, rejected_code: str) -> list[JSON]:
    """Answer each item: reference, timestamp and locale checked, then ``handle``.

    A domain refusal of one item (InvalidInput) becomes that item's ``rjct`` with
    ``rejected_code``; Forbidden (a missing scope) still refuses the whole call.
    """
    answers: list[JSON] = []
    seen: set[str] = set()
    for item in items:
        reference = item.get("reference_id")
        reference = str(reference) if isinstance(reference, str | int) else ""
        base: JSON = {"reference_id": reference[:99], "timestamp": now()}
        try:
            if not reference or len(reference) > 99:
                raise ItemRejected("rjct.reference_id.invalid", "reference_id is required")
            if reference in seen:
                raise ItemRejected("rjct.reference_id.duplicate", "reference_id repeated")
            seen.add(reference)
            if "timestamp" in item and parse_timestamp(item["timestamp"]) is None:
                raise ItemRejected(
                    "rjct.timestamp.invalid", "timestamp must be ISO 8601 with a zone"
                )
            base["locale"] = item_locale(item, rejected_code)
            answers.append({**base, "status": "succ", **(await handle(item))})
        except ItemRejected as exc:
            answers.append(rejected_item(base, exc.code, exc.message))
        except (Forbidden, ServiceUnavailable):
            raise
        except RnuError as exc:
            answers.append(rejected_item(base, rejected_code, str(exc)))
    return answers


def rejected_item(base: JSON, code: str, message: str) -> JSON:
    return {
        **base,
        "status": "rjct",
        "status_reason_code": code,
        "status_reason_message": message[:999],
    }


# ---------------------------------------------------------------------------------------------
# The route class: every failure on a DCI route in the spec's shape.


class DciRoute(APIRoute):
    """Turns errors raised anywhere in a DCI call (auth, scopes, limits) into spec shapes."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except Refused as exc:
                return exc.response
            except DciHttpError as exc:
                return http_error(exc.status, exc.message, exc.code)
            except HTTPException as exc:
                response = http_error(exc.status_code, str(exc.detail))
                for name, value in (getattr(exc, "headers", None) or {}).items():
                    response.headers[name] = value
                return response
            except RequestValidationError:
                return http_error(400, "the request does not match the DCI envelope")
            except RateLimited as exc:  # a request rate or a record quota (QuotaExceeded)
                response = http_error(429, str(exc))
                response.headers.update(exc.headers)
                return response
            except Forbidden as exc:
                return http_error(403, str(exc))
            except NotFound as exc:
                return http_error(404, str(exc))
            except ServiceUnavailable as exc:
                return http_error(503, str(exc), "err.service.unavailable")
            except InvalidInput as exc:
                return http_error(400, str(exc))
            except Exception:
                log.exception("unexpected error on %s", request.url.path)
                return http_error(500, "internal error", "err.service.unavailable")

        return route


ENVELOPE_SCHEMA: JSON = {
    "type": "object",
    "required": ["header", "message"],
    "properties": {
        "signature": {"type": "string"},
        "header": DciHeader.model_json_schema(),
        "message": {"type": "object"},
    },
}


def body_doc(description: str) -> JSON:
    """``openapi_extra`` documenting the envelope body (the route reads it itself)."""
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"application/json": {"schema": ENVELOPE_SCHEMA}},
        }
    }
