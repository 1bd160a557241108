"""Persisted queries at the GraphQL edge: hash-only requests, and the production allow-list.

An agency's queries are registered ahead of time (``register``, used by ``rnu agency
query-add``), each checked against the schema and the limits as a request would be. A client
may then send only ``extensions.persistedQuery.sha256Hash`` (Apollo's convention); and where
``RNU_GRAPHQL_PERSISTED_ONLY`` is on -- by default in production -- a query whose hash the
calling client has not registered is refused, so a leaked key cannot run arbitrary queries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel.ext.asyncio.session import AsyncSession

from api.auth.agency import Agency
from api.graphql.checks import check_operation
from api.graphql.errors import Code, Refusal
from rnu.agency import persisted as store
from rnu.agency.models import ApiClient, PersistedQuery
from rnu.errors import InvalidInput

if TYPE_CHECKING:
    from api.graphql.http import Params

query_hash = store.query_hash


async def allowed_query(
    session: AsyncSession, agency: Agency, params: Params, *, only_registered: bool
) -> str:
    """The query text to run for this client; Refusal when it may not run."""
    if params.query is None:
        assert params.persisted_hash is not None
        found = await store.find(session, client_id=agency.client_id, sha256=params.persisted_hash)
        if found is None:
            raise Refusal(
                Code.PERSISTED_QUERY_NOT_FOUND,
                "PersistedQueryNotFound: no query with this hash is registered for this key",
            )
        return found.query
    if only_registered:
        digest = params.persisted_hash or query_hash(params.query)
        if await store.find(session, client_id=agency.client_id, sha256=digest) is None:
            raise Refusal(
                Code.PERSISTED_QUERY_NOT_ALLOWED,
                "only queries registered for this key run here; ask RNU to register it "
                "(docs/graphql.md, persisted queries)",
                status=403,
            )
    return params.query


def _check(query: str) -> None:
    try:
        check_operation(query, None, None, introspection=False)
    except Refusal as exc:
        raise InvalidInput(f"the query cannot be registered: {exc.message}") from None


async def register(
    session: AsyncSession, *, client: ApiClient, query: str, name: str | None = None
) -> PersistedQuery:
    """Register ``query`` for ``client`` once it passes the checks a request would pass.

    A query with variables is checked without them (their sizes count at the worst case).
    """
    return await store.register(session, client=client, query=query, name=name, check=_check)
