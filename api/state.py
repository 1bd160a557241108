"""What the app builds once at start-up and every request shares."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.cache import DataVersionMemo
from rnu.config import Settings
from rnu.embedded import Endpoints


class ReplicaHealth:
    """Whether to try the read replica: after a failure, skip it for a pause, then try again.

    Without the pause every read would first wait on a dead replica's connect timeout.
    """

    def __init__(self, pause_s: float = 5.0) -> None:
        self.pause_s = pause_s
        self._down_since: float | None = None

    @property
    def is_down(self) -> bool:
        return self._down_since is not None

    def should_try(self) -> bool:
        return self._down_since is None or time.monotonic() - self._down_since >= self.pause_s

    def record_failure(self) -> None:
        self._down_since = time.monotonic()

    def record_success(self) -> None:
        self._down_since = None


@dataclass
class AppState:
    settings: Settings
    endpoints: Endpoints
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis
    # The streaming read replica (RNU_DATABASE_REPLICA_URL), when configured.
    read_engine: AsyncEngine | None = None
    read_sessionmaker: async_sessionmaker[AsyncSession] | None = None
    replica_health: ReplicaHealth = field(default_factory=ReplicaHealth)
    # Rate-limit and failure counters (RNU_REDIS_COUNTERS_URL): a Redis that never evicts, so
    # memory pressure from cached answers cannot reset a budget. None: the cache's Redis.
    counters: Redis | None = None
    data_version: DataVersionMemo = field(init=False)

    def __post_init__(self) -> None:
        self.data_version = DataVersionMemo(self.settings.data_version_max_age_s)
