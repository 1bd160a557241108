"""What the app builds once at start-up and every request shares."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.config import Settings
from rnu.embedded import Endpoints


@dataclass
class AppState:
    settings: Settings
    endpoints: Endpoints
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis
