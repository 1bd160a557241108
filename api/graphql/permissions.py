"""Scope checks for GraphQL fields: a missing scope is an error on that field, never the data."""

from __future__ import annotations

from typing import Any, ClassVar

from strawberry.permission import BasePermission
from strawberry.types import Info


class _HasScope(BasePermission):
    scope: ClassVar[str]
    error_extensions = {"code": "FORBIDDEN"}

    @property
    def message(self) -> str:  # type: ignore[override]
        return f"Forbidden: this API key lacks the scope {self.scope}"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return bool(info.context.agency.caller.has_scope(self.scope))


class CanReadPeople(_HasScope):
    scope = "person:read"


class CanReadCoverage(_HasScope):
    scope = "coverage:read"


class CanReadFlags(_HasScope):
    scope = "flags:read"
