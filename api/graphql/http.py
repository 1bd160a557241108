"""GraphQL over HTTP at /graphql, as the GraphQL-over-HTTP specification describes it.

RNU serves the endpoint itself rather than through Strawberry's router: that router answers
refusals as plain text, and RNU's key and purpose checks would answer in RNU's REST shape,
both of which a GraphQL client reads as a network error. Here every answer is a GraphQL
response, ``errors[]`` with ``extensions.code`` (``api.graphql.errors.Code``) on each error.

A POST goes through these steps, cheapest first:

1. the HTTP request: at most ``MAX_BODY_BYTES``, ``application/json``, one JSON object with
   ``query``/``operationName``/``variables``/``extensions`` (a JSON list -- batching -- is
   refused);
2. the document (``api.graphql.checks``): parsed, one operation chosen by
   ``operationName``, validated against the schema (introspection refused where it is off),
   variables coerced, depth/aliases/cost measured (``api.graphql.limits``). All of it needs
   neither SQL nor the key, so abuse costs neither;
3. the key, purpose and request rate (``api.auth.agency``), then the persisted-query
   allow-list (``api.graphql.persisted``);
4. the person records the operation can return reserved on the client's quotas, execution,
   every resolver awaited, the audit rows written, unused records given back.

Status codes: with ``application/graphql-response+json`` (the default, also for ``*/*`` or
no Accept) a request error is a 4xx; with ``application/json`` a well-formed request that
fails as GraphQL is answered 200, as the spec asks. Authentication and rate limits keep
401/403/429 either way.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import observability
from api.auth.agency import AgencyDep, QuotaExceeded, agency_reads
from api.deps import SecretDep, SessionDep, StateDep
from api.graphql import explorer, persisted
from api.graphql.checks import Operation, check_operation
from api.graphql.context import Context
from api.graphql.errors import Code, Refusal, with_codes
from api.graphql.schema import AUDIT_ACTION, schema
from api.ratelimit import RateLimited
from rnu.cache import cache_for
from rnu.errors import Forbidden, RnuError, ServiceUnavailable
from usecases.context import Context as UseCaseContext

log = logging.getLogger("rnu.graphql")

PATH = "/graphql"
RESPONSE_MEDIA = "application/graphql-response+json"
JSON_MEDIA = "application/json"
MAX_BODY_BYTES = 200_000
_HASH = re.compile(r"^[0-9a-fA-F]{64}$")

# GraphQL request errors of a well-formed request: 200 under application/json (spec 6.4.1).
_REQUEST_ERRORS = frozenset(
    {
        Code.GRAPHQL_PARSE_FAILED,
        Code.TOKEN_LIMIT_EXCEEDED,
        Code.OPERATION_RESOLUTION_FAILURE,
        Code.GRAPHQL_VALIDATION_FAILED,
        Code.INTROSPECTION_DISABLED,
        Code.DEPTH_LIMIT_EXCEEDED,
        Code.ALIAS_LIMIT_EXCEEDED,
        Code.COST_LIMIT_EXCEEDED,
        Code.BAD_USER_INPUT,
        Code.PERSISTED_QUERY_NOT_FOUND,
    }
)


# ---------------------------------------------------------------------------------------------
# Media types and answers.


def choose_media_type(accept: str | None) -> str | None:
    """The response media type the client accepts best; None when it accepts neither."""
    if not accept or not accept.strip():
        return RESPONSE_MEDIA
    offers: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            offers.append((-quality, index, media.lower()))
    for _, _, media in sorted(offers):
        if media in (RESPONSE_MEDIA, JSON_MEDIA):
            return media
        if media in ("*/*", "application/*"):
            return RESPONSE_MEDIA
    return None


def graphql_response(
    body: dict[str, object], media: str, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status_code=status,
        media_type=f"{media}; charset=utf-8",
        headers=headers,
    )


def refusal_response(refusal: Refusal, media: str) -> Response:
    status = refusal.status
    if media == JSON_MEDIA and refusal.code in _REQUEST_ERRORS:
        status = 200
    return graphql_response(
        {"errors": refusal.errors()},
        media,
        status,
        {"Cache-Control": "no-store", **refusal.headers},
    )


def as_refusal(exc: Exception) -> Refusal | None:
    """The GraphQL refusal for an exception raised before execution (None: not ours)."""
    if isinstance(exc, Refusal):
        return exc
    if isinstance(exc, QuotaExceeded):
        headers = {"Retry-After": str(exc.retry_after_s)}
        return Refusal(Code.QUOTA_EXCEEDED, exc.detail, status=429, headers=headers)
    if isinstance(exc, RateLimited):
        headers = {"Retry-After": str(exc.retry_after_s)}
        return Refusal(Code.RATE_LIMITED, "too many requests", status=429, headers=headers)
    if isinstance(exc, StarletteHTTPException):
        code = {401: Code.UNAUTHENTICATED, 403: Code.FORBIDDEN}.get(
            exc.status_code, Code.BAD_REQUEST
        )
        return Refusal(code, str(exc.detail), status=exc.status_code, headers=exc.headers)
    if isinstance(exc, Forbidden):
        return Refusal(Code.FORBIDDEN, str(exc), status=403)
    if isinstance(exc, ServiceUnavailable):
        return Refusal(Code.SERVICE_UNAVAILABLE, str(exc), status=503)
    if isinstance(exc, RnuError):  # the purpose header and other invalid input
        return Refusal(Code.BAD_REQUEST, str(exc), status=400)
    if isinstance(exc, DBAPIError | PoolTimeout | ConnectionError | OSError):
        if not observability.is_connection_problem(exc):
            return None
        observability.DB_UNAVAILABLE.inc()
        log.warning("database unavailable: %s", type(exc).__name__)
        message = "the database is unavailable; retry shortly"
        return Refusal(Code.SERVICE_UNAVAILABLE, message, status=503, headers={"Retry-After": "5"})
    return None


class GraphQLRoute(APIRoute):
    """Answers the route's own refusals, and its dependencies' (key, purpose, limits), as a
    GraphQL response in the negotiated media type instead of RNU's REST error shape."""

    def get_route_handler(self) -> Any:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            media = choose_media_type(request.headers.get("accept"))
            try:
                if media is None and request.method == "POST":  # GET may ask for GraphiQL
                    raise Refusal(
                        Code.NOT_ACCEPTABLE,
                        f"accept {RESPONSE_MEDIA} or {JSON_MEDIA}",
                        status=406,
                    )
                response: Response = await handler(request)
                return response
            except Exception as exc:
                refusal = as_refusal(exc)
                if refusal is None:
                    log.error("graphql request failed: %s", type(exc).__name__)
                    refusal = Refusal(Code.INTERNAL_SERVER_ERROR, "internal error", status=500)
                return refusal_response(refusal, media or RESPONSE_MEDIA)

        return handle


# ---------------------------------------------------------------------------------------------
# Step 1: the HTTP request.


@dataclass(frozen=True)
class Params:
    """The GraphQL-over-HTTP request parameters of one POST."""

    query: str | None
    operation_name: str | None
    variables: dict[str, Any]
    persisted_hash: str | None


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise Refusal(Code.REQUEST_TOO_LARGE, f"body over {MAX_BODY_BYTES} bytes", status=413)
    chunks = bytearray()
    async for chunk in request.stream():
        chunks += chunk
        if len(chunks) > MAX_BODY_BYTES:
            raise Refusal(Code.REQUEST_TOO_LARGE, f"body over {MAX_BODY_BYTES} bytes", status=413)
    return bytes(chunks)


def _bad(message: str) -> Refusal:
    return Refusal(Code.BAD_REQUEST, message, status=400)


def read_params(content_type: str, body: bytes) -> Params:
    """The request's parameters; Refusal when it is not a well-formed GraphQL request."""
    media = content_type.split(";")[0].strip().lower()
    if media != JSON_MEDIA:
        raise Refusal(Code.UNSUPPORTED_MEDIA_TYPE, f"send the request as {JSON_MEDIA}", status=415)
    try:
        data = json.loads(body)
    except ValueError:
        raise _bad("the body is not valid JSON") from None
    if isinstance(data, list):
        raise Refusal(
            Code.BATCHING_NOT_SUPPORTED,
            "batched requests are not supported: send one operation per request",
            status=400,
        )
    if not isinstance(data, dict):
        raise _bad("the body must be a JSON object")
    query, name = data.get("query"), data.get("operationName")
    variables, extensions = data.get("variables"), data.get("extensions")
    if query is not None and not isinstance(query, str):
        raise _bad("query must be a string")
    if name is not None and not isinstance(name, str):
        raise _bad("operationName must be a string")
    if variables is not None and not isinstance(variables, dict):
        raise _bad("variables must be an object")
    if extensions is not None and not isinstance(extensions, dict):
        raise _bad("extensions must be an object")
    digest = None
    if extensions and "persistedQuery" in extensions:
        spec = extensions["persistedQuery"]
        digest = spec.get("sha256Hash") if isinstance(spec, dict) else None
        if not isinstance(digest, str) or not _HASH.match(digest):
            raise _bad("extensions.persistedQuery.sha256Hash must be 64 hex digits")
        digest = digest.lower()
    if query is None and digest is None:
        raise _bad("the request has no query")
    return Params(
        query=query, operation_name=name, variables=variables or {}, persisted_hash=digest
    )


@dataclass(frozen=True)
class Checked:
    """Steps 1 and 2: the parameters, and the operation when the query text came with them."""

    params: Params
    operation: Operation | None


async def check_request(request: Request, state: StateDep) -> Checked:
    """The dependency that runs before the key is looked up."""
    params = read_params(request.headers.get("content-type", ""), await _body(request))
    if params.query is not None and params.persisted_hash is not None:
        if persisted.query_hash(params.query) != params.persisted_hash:
            raise _bad("extensions.persistedQuery.sha256Hash is not the hash of the query")
    operation = None
    if params.query is not None:
        operation = check_operation(
            params.query,
            params.operation_name,
            params.variables,
            introspection=state.settings.introspection_enabled(),
        )
    return Checked(params=params, operation=operation)


CheckedDep = Annotated[Checked, Depends(check_request)]


# ---------------------------------------------------------------------------------------------
# Steps 3 and 4: after the key.


async def post_graphql(
    request: Request,
    checked: CheckedDep,
    agency: AgencyDep,
    session: SessionDep,
    state: StateDep,
    secret: SecretDep,
) -> Response:
    """Run one GraphQL query (see the module docstring for every step)."""
    settings = state.settings
    operation = checked.operation
    query = await persisted.allowed_query(
        session, agency, checked.params, only_registered=settings.persisted_queries_only()
    )
    if operation is None:
        operation = check_operation(
            query,
            checked.params.operation_name,
            checked.params.variables,
            introspection=settings.introspection_enabled(),
        )
    media = choose_media_type(request.headers.get("accept")) or RESPONSE_MEDIA
    async with agency_reads(
        state, agency, session, secret, action=AUDIT_ACTION, wanted=operation.measure.records
    ) as reads:
        public = UseCaseContext(
            session=session,
            cache=cache_for(state.redis),
            settings=settings,
            data_version=state.data_version,
        )
        context = Context(session=session, agency=agency, secret=secret, reads=reads, public=public)
        context.request = request
        try:
            result = await schema.execute(
                operation.query,
                variable_values=operation.variables,
                context_value=context,
                operation_name=operation.operation_name,
            )
        finally:
            await context.in_flight.drained()
        await reads.audit()
    body: dict[str, object] = {"data": result.data}
    if result.errors:
        body["errors"] = with_codes(result.errors)
    return graphql_response(body, media, headers={"Cache-Control": "no-store"})


async def get_graphql(request: Request, state: StateDep) -> Response:
    """GraphiQL for a browser where the docs are on; queries are POST only."""
    if state.settings.docs_enabled() and "text/html" in request.headers.get("accept", ""):
        return explorer.page()
    raise Refusal(
        Code.METHOD_NOT_ALLOWED,
        "send GraphQL queries as POST with Content-Type: application/json",
        status=405,
        headers={"Allow": "POST"},
    )


def make_router() -> APIRouter:
    """The router at /graphql: POST for queries, GET for GraphiQL, the SDL beside them."""
    router = APIRouter(route_class=GraphQLRoute, tags=["agencias"])
    router.add_api_route(
        PATH,
        post_graphql,
        methods=["POST"],
        summary="Run one GraphQL query (GraphQL over HTTP); see docs/graphql.md",
        response_class=Response,
    )
    router.add_api_route(
        PATH, get_graphql, methods=["GET"], include_in_schema=False, response_class=Response
    )
    return router
