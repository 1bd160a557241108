"""The GraphQL queries each agency registered: the allow-list production runs.

An operator registers a query for a client after reading it (``rnu agency query-add``); the
agency then sends the query (or only its hash). A hash is the hex SHA-256 of the exact text,
as Apollo's persisted queries compute it, so a client library can send it unchanged.
Checking the query against the schema and its limits is the GraphQL edge's job: it passes a
checker, so this module stays free of GraphQL.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.agency.models import ApiClient, PersistedQuery
from rnu.base import utcnow
from rnu.errors import InvalidInput, NotFound


def query_hash(query: str) -> str:
    return hashlib.sha256(query.encode("utf-8")).hexdigest()


async def find(session: AsyncSession, *, client_id: int, sha256: str) -> PersistedQuery | None:
    """The client's live registered query with this hash, if any."""
    result = await session.exec(
        select(PersistedQuery).where(
            col(PersistedQuery.client_id) == client_id,
            col(PersistedQuery.sha256) == sha256.lower(),
            col(PersistedQuery.revoked_at).is_(None),
        )
    )
    return result.first()


async def register(
    session: AsyncSession,
    *,
    client: ApiClient,
    query: str,
    name: str | None,
    check: Callable[[str], None],
) -> PersistedQuery:
    """Register ``query`` for ``client`` after ``check`` accepts it (raising InvalidInput)."""
    if client.id is None:
        raise InvalidInput("the client is not saved")
    if not query.strip():
        raise InvalidInput("the query is empty")
    check(query)
    digest = query_hash(query)
    existing = await find(session, client_id=client.id, sha256=digest)
    if existing is not None:
        return existing
    row = PersistedQuery(client_id=client.id, sha256=digest, name=name, query=query)
    session.add(row)
    await session.flush()
    return row


async def list_for(session: AsyncSession, *, client_id: int) -> list[PersistedQuery]:
    result = await session.exec(
        select(PersistedQuery)
        .where(col(PersistedQuery.client_id) == client_id)
        .order_by(col(PersistedQuery.id))
    )
    return list(result.all())


async def revoke(session: AsyncSession, *, client_id: int, sha256: str) -> PersistedQuery:
    row = await find(session, client_id=client_id, sha256=sha256)
    if row is None:
        raise NotFound("no live registered query with that hash for this client")
    row.revoked_at = utcnow()
    session.add(row)
    await session.flush()
    return row
