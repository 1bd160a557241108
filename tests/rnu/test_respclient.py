"""The pipelined RESP client of the lookup fast path, against the real (embedded) Redis."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from rnu.respclient import RespClient, RespError, RespUnavailable, pack, parse, parse_url

ECHO = "return {KEYS[1], ARGV[1], redis.call('INCR', KEYS[1])}"


@pytest.fixture
async def client(redis_url: str, redis: Redis) -> RespClient:
    made = RespClient.from_url(redis_url, timeout_s=1.0)
    assert made is not None
    return made


async def test_replies_reach_their_callers_in_order_when_pipelined(
    client: RespClient, redis: Redis
) -> None:
    await redis.mset({f"t:{n}": f"v{n}" for n in range(200)})
    replies = await asyncio.gather(*(client.call(b"GET", f"t:{n}") for n in range(200)))
    assert replies == [f"v{n}".encode() for n in range(200)]
    client.close()


async def test_scripts_run_by_sha_and_are_sent_again_after_a_flush(
    client: RespClient, redis: Redis
) -> None:
    assert await client.script(ECHO, ["t:count"], [7]) == [b"t:count", b"7", 1]
    assert await client.script(ECHO, ["t:count"], [7]) == [b"t:count", b"7", 2]
    await redis.script_flush()  # a restarted server no longer knows the SHA (NOSCRIPT)
    assert await client.script(ECHO, ["t:count"], [7]) == [b"t:count", b"7", 3]
    client.close()


async def test_an_error_reply_raises_and_the_connection_stays_usable(
    client: RespClient, redis: Redis
) -> None:
    await redis.set("t:text", "x")
    with pytest.raises(RespError):
        await client.call(b"INCR", b"t:text")
    assert await client.call(b"GET", b"t:text") == b"x"
    client.close()


async def test_a_timed_out_reply_is_dropped_and_later_replies_stay_matched(
    client: RespClient, redis: Redis
) -> None:
    await redis.set("t:after", "later")
    client.timeout_s = 0.05
    with pytest.raises(RespUnavailable):
        # The server holds this reply for 0.3 s; the caller gives up first.
        await client.script("redis.call('DEBUG', 'SLEEP', '0.3') return 1", [], [])
    client.timeout_s = 1.0
    # The timeout dropped the connection; the next call opens a fresh one and is not handed
    # the late reply of the first.
    assert await client.call(b"GET", b"t:after") == b"later"
    client.close()


async def test_nothing_listening_is_unavailable_at_once() -> None:
    client = RespClient.from_url("redis://127.0.0.1:1/0", timeout_s=0.5)
    assert client is not None
    with pytest.raises(RespUnavailable):
        await client.call(b"PING")


def test_urls_it_can_and_cannot_use() -> None:
    unix = parse_url("unix:///tmp/r.sock?db=2")
    assert unix is not None
    assert (unix.unix_path, unix.db) == ("/tmp/r.sock", 2)
    tcp = parse_url("redis://:s%40cret@cache:6380/3")
    assert tcp is not None
    assert (tcp.host, tcp.port, tcp.db, tcp.password) == ("cache", 6380, 3, "s@cret")
    assert parse_url("rediss://cache:6379/0") is None  # TLS: the caller keeps redis-py


def test_resp_round_trip_of_nested_replies() -> None:
    assert pack((b"SET", "k", 5)) == b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n5\r\n"
    raw = b"*4\r\n:12\r\n$-1\r\n$3\r\nabc\r\n*1\r\n+OK\r\n"
    assert parse(raw, 0) == ([12, None, b"abc", ["OK"]], len(raw))
