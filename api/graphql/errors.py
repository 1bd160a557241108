"""GraphQL errors as the GraphQL-over-HTTP spec wants them: ``errors[]`` with a code on each.

An Apollo-style client reads ``{"errors": [{"message", "extensions": {"code"}}]}`` for every
failure, a refusal before execution included; RNU's REST shape (``error``/``detail``/
``mensaje``) would look like a network error to it. ``Code`` is the closed list of
``extensions.code`` values (docs/graphql.md lists them for integrators).

Nothing personal is logged: a GraphQL error is logged by its code and path only, never its
message or the query text (both can hold a DNI an agency sent), and an unexpected error by
its exception class alone.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from enum import StrEnum

from graphql import GraphQLError

from rnu.errors import Conflict, Forbidden, InvalidInput, NotFound, RnuError, ServiceUnavailable
from usecases.agency import TooManyRecords

log = logging.getLogger("rnu.graphql")


class Code(StrEnum):
    """Every ``extensions.code`` RNU's GraphQL endpoint may answer."""

    BAD_REQUEST = "BAD_REQUEST"  # not a well-formed GraphQL-over-HTTP request
    BATCHING_NOT_SUPPORTED = "BATCHING_NOT_SUPPORTED"
    REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    NOT_ACCEPTABLE = "NOT_ACCEPTABLE"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    TOKEN_LIMIT_EXCEEDED = "TOKEN_LIMIT_EXCEEDED"
    OPERATION_RESOLUTION_FAILURE = "OPERATION_RESOLUTION_FAILURE"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"
    DEPTH_LIMIT_EXCEEDED = "DEPTH_LIMIT_EXCEEDED"
    ALIAS_LIMIT_EXCEEDED = "ALIAS_LIMIT_EXCEEDED"
    COST_LIMIT_EXCEEDED = "COST_LIMIT_EXCEEDED"
    RECORD_LIMIT_EXCEEDED = "RECORD_LIMIT_EXCEEDED"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    RATE_LIMITED = "RATE_LIMITED"
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_NOT_ALLOWED = "PERSISTED_QUERY_NOT_ALLOWED"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


class Refusal(Exception):
    """A request refused before (or instead of) execution: no ``data`` entry in the answer."""

    def __init__(
        self,
        code: Code,
        message: str,
        *,
        status: int = 400,
        headers: Mapping[str, str] | None = None,
        errors: Sequence[GraphQLError] = (),
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.headers = dict(headers or {})
        self._errors = tuple(errors)

    def errors(self) -> list[dict[str, object]]:
        """``errors[]``: the GraphQL errors behind the refusal (with their locations), or one."""
        if not self._errors:
            return [{"message": self.message, "extensions": {"code": self.code.value}}]
        return [
            {**e.formatted, "extensions": {**(e.extensions or {}), "code": self.code.value}}
            for e in self._errors
        ]


_DOMAIN_CODES: tuple[tuple[type[RnuError], Code], ...] = (
    (TooManyRecords, Code.RECORD_LIMIT_EXCEEDED),
    (InvalidInput, Code.BAD_USER_INPUT),
    (Forbidden, Code.FORBIDDEN),
    (NotFound, Code.NOT_FOUND),
    (Conflict, Code.CONFLICT),
    (ServiceUnavailable, Code.SERVICE_UNAVAILABLE),
)


def code_of(error: GraphQLError) -> Code:
    """The code of an error raised while executing (a field error)."""
    existing = (error.extensions or {}).get("code")
    if isinstance(existing, str) and existing in Code.__members__:
        return Code(existing)
    original = error.original_error
    if original is None:
        return Code.GRAPHQL_VALIDATION_FAILED
    if isinstance(original, Refusal):
        return original.code
    if isinstance(original, PermissionError):
        return Code.FORBIDDEN
    for cls, code in _DOMAIN_CODES:
        if isinstance(original, cls):
            return code
    return Code.INTERNAL_SERVER_ERROR


def with_codes(errors: Sequence[GraphQLError]) -> list[dict[str, object]]:
    """The formatted ``errors[]``, each carrying its ``extensions.code``."""
    out = []
    for error in errors:
        formatted = dict(error.formatted)
        formatted["extensions"] = {**(error.extensions or {}), "code": code_of(error).value}
        out.append(formatted)
    return out


def log_errors(errors: Sequence[GraphQLError]) -> None:
    """Log by code and path only; unexpected errors with their class, never their text."""
    for error in errors:
        code = code_of(error)
        path = ".".join(str(p) for p in error.path or ())
        if code is Code.INTERNAL_SERVER_ERROR:
            kind = type(error.original_error).__name__
            log.error("graphql field error %s at %s (%s)", code.value, path or "-", kind)
        else:
            log.info("graphql field error %s at %s", code.value, path or "-")
