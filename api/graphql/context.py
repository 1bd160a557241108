"""The GraphQL request context: session, agency, loaders and the reader of people.

Resolvers of one request share one session, and graphql-core does two things to resolvers
when a field fails: it *cancels* the siblings still running (``gather_with_cancel``), and it
lets other pending work settle in the background after the result is returned. A query
cancelled inside asyncpg invalidates the connection, and work still running when the request
commits uses a finished session: ``persons(first: -5)`` beside another field came back as a
503 "database unavailable" and counted as an outage. So every statement runs in a task of
its own, shielded from cancellation (``InFlight.guard``), and the endpoint waits for those
tasks and for graphql-core's background work (``InFlight.drained``) before it writes the
audit and commits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Collection
from typing import Any, TypeVar

import strawberry
from sqlmodel.ext.asyncio.session import AsyncSession
from strawberry.fastapi import BaseContext

from api.auth.agency import Agency
from api.graphql.dataloaders import Loaders
from usecases.agency import AgencyReads
from usecases.context import Context as UseCaseContext

T = TypeVar("T")


class InFlight:
    """The request's statements in flight, and graphql-core's work settling in background."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Future[Any]] = set()
        self.background: list[Collection[asyncio.Future[Any]]] = []

    async def guard(self, work: Awaitable[T]) -> T:
        """Run ``work`` (one statement) to its end even if the awaiting resolver is cancelled."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return await asyncio.shield(task)

    def _pending(self) -> list[asyncio.Future[Any]]:
        pending = [t for t in self._tasks if not t.done()]
        for futures in self.background:
            pending += [f for f in futures if not f.done()]
        return pending

    async def drained(self, timeout_s: float = 30.0) -> None:
        """Return once no statement runs and no resolver settles in the background."""
        async with asyncio.timeout(timeout_s):
            while True:
                pending = self._pending()
                if not pending:
                    await asyncio.sleep(0)  # work scheduled by the last callbacks starts now
                    pending = self._pending()
                    if not pending:
                        return
                await asyncio.wait(pending)


class Context(BaseContext):
    """Built per request by the endpoint (api.graphql.http); resolvers reach it as
    ``info.context``."""

    def __init__(
        self,
        *,
        session: AsyncSession,
        agency: Agency,
        secret: bytes,
        reads: AgencyReads,
        public: UseCaseContext | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        # For the published statistics (coverage): their cache and data version, shared with
        # the public pages so GraphQL reads the very same suppression patterns.
        self.public = public
        self.agency = agency
        self.secret = secret
        # The one reader of people (policy, audit subjects, the call's record bound).
        self.reads = reads
        self.in_flight = InFlight()
        self.loaders = Loaders(session, self.in_flight.guard)


Info = strawberry.Info[Context, None]
