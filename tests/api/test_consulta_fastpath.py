"""The cached self-lookup's fast path (api/fastpath.py) answers exactly as the route does.

Each scenario runs twice on a fresh Redis, once with the fast path and once with
``lookup_fast_path=False`` (every request through the FastAPI route), and the two runs must
give the same statuses, bytes and headers (the request id aside). The fast path's own counter
shows which requests it answered, so a test cannot pass by the fast path stepping aside.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import date

import httpx
import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis
from sqlalchemy import func, select, text
from sqlmodel.ext.asyncio.session import AsyncSession

from api.observability.access import flush_access_log
from api.observability.logs import JsonFormatter
from api.state import AppState
from privacy.masking import dni_hmac
from rnu.audit.models import AuditEvent
from rnu.cache import digest, lookup_key, seal_key
from rnu.normalize.documents import dni_check_chars
from tests.api.public_support import bind, make_client, seed_person

URL = "/api/v1/consulta"
HOLDER = "07654321"
BORN = "1950-03-09"
UNKNOWN = "07654329"
SECRET = b"test-secret-for-public"

Scenario = Callable[[httpx.AsyncClient], Awaitable[list[httpx.Response]]]


def fast_count(outcome: str) -> float:
    return REGISTRY.get_sample_value("rnu_lookup_fast_path_total", {"outcome": outcome}) or 0.0


def ask(client: httpx.AsyncClient, dni: str, fecha: str, n: int = 1) -> Awaitable[httpx.Response]:
    return client.post(
        URL,
        json={"dni": dni, "fecha_nacimiento": fecha},
        headers={"X-Forwarded-For": f"10.2.{n // 250}.{n % 250 + 1}"},
    )


def comparable(response: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    headers = [(k, v) for k, v in response.headers.items() if k not in ("x-request-id", "date")]
    return response.status_code, response.content, headers


async def both_ways(
    app_state: AppState, session: AsyncSession, redis: Redis, scenario: Scenario, **settings: object
) -> tuple[list[httpx.Response], list[httpx.Response], dict[str, float]]:
    """The scenario through the fast path, then through the route, each on an empty Redis;
    with how many requests the fast path answered or refused in the first run."""
    runs = []
    answered = {}
    for fast in (True, False):
        await redis.flushdb()
        if app_state.counters is not None:
            await app_state.counters.flushdb()
        state = bind(
            app_state, session, trusted_proxies="127.0.0.0/8", lookup_fast_path=fast, **settings
        )
        before = {o: fast_count(o) for o in ("answered", "refused", "miss")}
        async with await make_client(state) as client:
            runs.append(await scenario(client))
        if fast:
            answered = {o: fast_count(o) - before[o] for o in before}
    return runs[0], runs[1], answered


def assert_same(fast: list[httpx.Response], route: list[httpx.Response]) -> None:
    assert [comparable(r) for r in fast] == [comparable(r) for r in route]
    for response in fast:
        assert len(response.headers["x-request-id"]) >= 8  # the request id is kept


@pytest.fixture
async def holder(session: AsyncSession) -> None:
    await seed_person(session, doc_number=HOLDER, birth_on=date(1950, 3, 9))


@pytest.mark.usefixtures("holder")
class TestSameAnswers:
    async def test_hit_miss_wrong_date_and_unknown_dni(
        self, app_state: AppState, session: AsyncSession, redis: Redis
    ) -> None:
        async def scenario(client: httpx.AsyncClient) -> list[httpx.Response]:
            return [
                await ask(client, HOLDER, BORN),  # miss: computed and cached by the route
                await ask(client, HOLDER, BORN),  # hit
                await ask(client, f"{HOLDER}-{dni_check_chars(HOLDER)[0]}", BORN),  # hit
                await ask(client, HOLDER, "1950-03-10"),  # wrong date
                await ask(client, UNKNOWN, BORN),  # unknown DNI
            ]

        fast, route, counted = await both_ways(app_state, session, redis, scenario)
        assert_same(fast, route)
        assert [r.status_code for r in fast] == [200, 200, 200, 404, 404]
        assert fast[3].content == fast[4].content  # no oracle, on either path
        assert fast[0].json()["persona"]["dni"] == HOLDER
        # The three misses went to the route, the two repeats were answered at the edge.
        assert counted == {"answered": 2, "refused": 0, "miss": 3}

    async def test_rate_limited_hit_is_the_routes_429(
        self, app_state: AppState, session: AsyncSession, redis: Redis
    ) -> None:
        async def scenario(client: httpx.AsyncClient) -> list[httpx.Response]:
            return [await ask(client, HOLDER, BORN) for _ in range(5)]

        fast, route, counted = await both_ways(
            app_state, session, redis, scenario, lookup_per_client=3
        )
        assert [r.status_code for r in fast] == [200, 200, 200, 429, 429]
        retry = [int(r.headers["retry-after"]) for r in fast + route if r.status_code == 429]
        assert max(retry) - min(retry) <= 2  # the window's end, read a moment apart
        for response in fast + route:
            response.headers.pop("retry-after", None)
        assert_same(fast, route)
        assert counted == {"answered": 2, "refused": 2, "miss": 1}

    async def test_closed_lane_hit_is_the_routes_428(
        self, app_state: AppState, session: AsyncSession, redis: Redis
    ) -> None:
        async def scenario(client: httpx.AsyncClient) -> list[httpx.Response]:
            cached = await ask(client, HOLDER, BORN, n=1)  # the answer is in the cache now
            wrong = [await ask(client, HOLDER, f"19{40 + n}-01-01", n=10 + n) for n in range(2)]
            # The right date again, from a new client: cached, but the plain lane is closed.
            return [cached, *wrong, await ask(client, HOLDER, BORN, n=99)]

        fast, route, counted = await both_ways(
            app_state, session, redis, scenario, lookup_failures_per_dni=2
        )
        assert_same(fast, route)
        assert [r.status_code for r in fast] == [200, 404, 404, 428]
        assert fast[3].json()["error"] == "StepUpRequired"
        assert counted == {"answered": 0, "refused": 1, "miss": 3}

    async def test_an_entry_sealed_with_escapes_is_sent_as_the_route_renders_it(
        self, app_state: AppState, session: AsyncSession, redis: Redis
    ) -> None:
        # Entries cached before sealed_json wrote UTF-8 hold "\u00f1"-style escapes.
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        state = bind(app_state, session, trusted_proxies="127.0.0.0/8")
        async with await make_client(state) as client:
            body = (await ask(client, HOLDER, BORN)).json()
        conn = await session.connection()
        result = await conn.execute(text("SELECT data_version FROM registry_state"))
        version = int(result.scalar_one())
        key = lookup_key(
            version,
            "citizen",
            dni_hmac(SECRET, HOLDER),
            digest(SECRET, "factor", f"{HOLDER}:{BORN}"),
        )
        assert await redis.exists(key)
        body["hogar"]["cse_texto"] = "pobre extremo (ñandú)"
        plain = json.dumps(body, separators=(",", ":")).encode()
        assert b"\\u00f1" in plain
        nonce = b"\x00" * 12
        seal = seal_key(SECRET, HOLDER, BORN)
        await redis.set(key, nonce + AESGCM(seal).encrypt(nonce, plain, key.encode()), ex=60)
        answers = []
        for fast in (True, False):
            state = bind(app_state, session, trusted_proxies="127.0.0.0/8", lookup_fast_path=fast)
            state.data_version._value, state.data_version._read_at = version, 1e18
            async with await make_client(state) as client:
                answers.append(await ask(client, HOLDER, BORN))
        assert answers[0].content == answers[1].content
        assert "ñandú".encode() in answers[0].content


@pytest.mark.usefixtures("holder")
class TestKeptAtTheEdge:
    async def test_a_hit_writes_no_audit_row_as_through_the_route(
        self, app_state: AppState, session: AsyncSession, redis: Redis
    ) -> None:
        # A citizen reading their own record is not audited as a read (usecases/citizen.py
        # writes no row, cached or not); the fast path keeps exactly that.
        async def rows() -> int:
            conn = await session.connection()
            result = await conn.execute(select(func.count()).select_from(AuditEvent))
            return int(result.scalar_one())

        state = bind(app_state, session, trusted_proxies="127.0.0.0/8")
        before = await rows()
        answered = fast_count("answered")
        async with await make_client(state) as client:
            for _ in range(3):
                assert (await ask(client, HOLDER, BORN)).status_code == 200
        assert fast_count("answered") - answered == 2
        assert await rows() == before

    async def test_access_log_and_metrics_name_the_route_never_the_dni(
        self,
        app_state: AppState,
        session: AsyncSession,
        redis: Redis,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        state = bind(app_state, session, trusted_proxies="127.0.0.0/8")
        labels = {"method": "POST", "route": URL, "status": "200"}
        counted = REGISTRY.get_sample_value("rnu_http_requests_total", labels) or 0.0
        answered = fast_count("answered")
        async with await make_client(state) as client:
            await ask(client, HOLDER, BORN)
            flush_access_log()
            caplog.clear()
            with caplog.at_level(logging.DEBUG):
                hit = await ask(client, HOLDER, BORN)
                flush_access_log()
        assert hit.status_code == 200
        assert fast_count("answered") - answered == 1
        lines = [r for r in caplog.records if r.name == "rnu.access"]
        assert len(lines) == 1
        assert (lines[0].route, lines[0].status) == (URL, 200)  # type: ignore[attr-defined]
        # Written after the request, in a batch: the line still carries its request's id.
        line = json.loads(JsonFormatter().format(lines[0]))
        assert line["request_id"] == hit.headers["x-request-id"]
        for record in caplog.records:
            assert HOLDER not in record.getMessage()
            assert HOLDER not in json.dumps(record.__dict__, default=str)
        assert REGISTRY.get_sample_value("rnu_http_requests_total", labels) == counted + 2

    async def test_a_load_makes_the_cached_answer_unreachable(
        self, app_state: AppState, session: AsyncSession, redis: Redis
    ) -> None:
        state = bind(app_state, session, trusted_proxies="127.0.0.0/8")  # memo: 0 s in tests
        async with await make_client(state) as client:
            first = (await ask(client, HOLDER, BORN)).json()
            await (await session.connection()).execute(text("UPDATE household SET cse = 'NP'"))
            assert (await ask(client, HOLDER, BORN)).json() == first  # a hit
            await (await session.connection()).execute(
                text("UPDATE registry_state SET data_version = data_version + 1 WHERE id = 1")
            )
            fresh = (await ask(client, HOLDER, BORN)).json()
        assert fresh["hogar"]["cse"] == "NP"

    async def test_redis_unreachable_for_the_fast_path_leaves_the_route_to_answer(
        self, app_state: AppState, session: AsyncSession, redis: Redis
    ) -> None:
        from api import fastpath
        from rnu.respclient import RespClient

        state = bind(app_state, session, trusted_proxies="127.0.0.0/8")
        clients = fastpath.clients_for(state)
        working = clients.cache
        clients.cache = RespClient.from_url("redis://127.0.0.1:1/0", timeout_s=0.2)
        passed = fast_count("redis")
        try:
            async with await make_client(state) as client:
                answers = [(await ask(client, HOLDER, BORN)).status_code for _ in range(3)]
        finally:
            clients.cache = working
        assert answers == [200, 200, 200]
        assert fast_count("redis") - passed == 3


def _with_db(url: str, db: int) -> str:
    """The same Redis server, another database: in the query (the embedded server's socket
    URL, ``?db=0``) or in the path (``redis://127.0.0.1:6379/0``)."""
    import re
    from urllib.parse import urlsplit, urlunsplit

    if re.search(r"[?&]db=\d+", url):  # text, not urlunsplit: it would drop unix:///'s slashes
        return re.sub(r"([?&])db=\d+", rf"\g<1>db={db}", url)
    return urlunsplit(urlsplit(url)._replace(path=f"/{db}"))


@pytest.mark.usefixtures("holder")
async def test_counters_in_a_redis_of_their_own(
    app_state: AppState, session: AsyncSession, redis: Redis, redis_url: str
) -> None:
    # RNU_REDIS_COUNTERS_URL (compose runs it): the answer's GET on the cache's Redis, the
    # admission script on the counters', and the same answers as the route.
    from dataclasses import replace

    from rnu.cache import make_redis

    other = int(redis.connection_pool.connection_kwargs.get("db", 0)) + 1
    counters = make_redis(_with_db(redis_url, other), timeout_s=1.0)
    assert counters.connection_pool.connection_kwargs["db"] == other
    split = replace(app_state, counters=counters)

    async def scenario(client: httpx.AsyncClient) -> list[httpx.Response]:
        return [await ask(client, HOLDER, BORN) for _ in range(4)]

    try:
        fast, route, counted = await both_ways(split, session, redis, scenario, lookup_per_client=2)
        assert [r.status_code for r in fast] == [200, 200, 429, 429]
        for response in fast + route:
            response.headers.pop("retry-after", None)
        assert_same(fast, route)
        assert counted == {"answered": 1, "refused": 2, "miss": 1}
        assert await counters.keys("rnu:rl:*")  # counted where the counters live
        assert not await redis.keys("rnu:rl:*")
    finally:
        await counters.flushdb()
        await counters.aclose()


@pytest.mark.usefixtures("holder")
async def test_a_cached_answer_still_waits_its_cohorts_turn(
    app_state: AppState, session: AsyncSession, redis: Redis
) -> None:
    # Peak mode's waiting room stands behind the fast path in the stack: a DNI whose turn it
    # is not today must get the waiting room even when its answer is cached.
    from rnu.peak import today_in_lima

    await seed_person(session, doc_number="07654322", birth_on=date(1950, 3, 9))
    today = today_in_lima().isoformat()
    open_state = bind(app_state, session, trusted_proxies="127.0.0.0/8")
    async with await make_client(open_state) as client:
        assert (await ask(client, HOLDER, BORN)).status_code == 200  # cached now
        assert (await ask(client, "07654322", BORN)).status_code == 200
    gated = bind(app_state, session, trusted_proxies="127.0.0.0/8", peak_cohorts=f"{today}=2,3")
    waited, answered = fast_count("cohort"), fast_count("answered")
    async with await make_client(gated) as client:
        held = await ask(client, HOLDER, BORN)  # ends in 1: not today
        served = await ask(client, "07654322", BORN)  # ends in 2: today, from the cache
    assert held.status_code == 429
    assert held.json()["error"] == "WaitingRoom"
    assert served.status_code == 200
    assert fast_count("cohort") - waited == 1
    assert fast_count("answered") - answered == 1
