"""The GraphQL request context: session, agency, loaders and the audit rows of the request."""

from __future__ import annotations

from collections import defaultdict

import strawberry
from sqlmodel.ext.asyncio.session import AsyncSession
from strawberry.fastapi import BaseContext

from api.auth.agency import Agency, AgencyDep
from api.deps import SecretDep, SessionDep
from api.graphql.dataloaders import Loaders
from rnu.agency import service as agency_service


class AuditCollector:
    """Which fields of which person this request returned; written once, at the end."""

    def __init__(self) -> None:
        self._fields: dict[str, set[str]] = defaultdict(set)

    def read(self, subject_hmac: str | None, field: str) -> None:
        if subject_hmac:
            self._fields[subject_hmac].add(field)

    @property
    def subjects(self) -> int:
        return len(self._fields)

    async def flush(self, session: AsyncSession, agency: Agency, action: str) -> int:
        """One row per person read, grouped in one INSERT per distinct field set."""
        groups: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for subject, fields in self._fields.items():
            groups[tuple(sorted(fields))].append(subject)
        written = 0
        for field_set, subjects in groups.items():
            written += await agency_service.audit_reads(
                session,
                actor_id=agency.actor.id,
                purpose=agency.purpose,
                action=action,
                subjects=subjects,
                fields=field_set,
                details={"client_id": agency.client_id},
            )
        self._fields.clear()
        return written


class Context(BaseContext):
    """Built per request by ``get_context``; resolvers reach it as ``info.context``."""

    def __init__(self, *, session: AsyncSession, agency: Agency, secret: bytes) -> None:
        super().__init__()
        self.session = session
        self.agency = agency
        self.secret = secret
        self.loaders = Loaders(session)
        self.audit = AuditCollector()


async def get_context(session: SessionDep, agency: AgencyDep, secret: SecretDep) -> Context:
    return Context(session=session, agency=agency, secret=secret)


Info = strawberry.Info[Context, None]
