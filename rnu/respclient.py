"""A minimal pipelined Redis client for the one call on the cached self-lookup's hot path.

Why not redis-py here: measured on the embedded Redis (unix socket, one process), one
``EVALSHA`` through ``redis.asyncio`` costs ≈ 160 µs of client CPU, a ``GET`` ≈ 100 µs and the
limiter's MULTI pipeline ≈ 340 µs — connection-pool checkout, retry and timeout wrappers and
the parser's per-reply coroutines — against ≈ 30 µs for the same bytes written and read
directly. On a cached lookup that is most of the request. This client keeps one connection
per server and process, writes each command as RESP, and matches replies to callers in
order (pipelining: any number of requests in flight on the one connection, no pool, no Task
per call). Everything else (the rest of the cache, the counters' fallbacks, the breaker) stays
on redis-py.

It fails fast and never retries: a timeout, a refused or lost connection, or a server error
raises ``RespUnavailable`` and the caller takes its normal path, which has the circuit
breaker and the fail-closed limits. A timed-out request keeps its place in the queue, so the
reply that comes late is read and dropped and later replies still reach their callers.
Supported URLs: ``unix://PATH?db=N`` and ``redis://[[user]:password@]host[:port][/db]``
(``rediss://`` is not: ``from_url`` returns None and the caller keeps its normal path).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import deque
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast
from urllib.parse import parse_qs, unquote, urlsplit

Reply = int | bytes | str | None | list[Any]


class RespUnavailable(Exception):
    """Redis did not answer this call usably; take the normal path."""


class RespError(RespUnavailable):
    """Redis answered with an error reply (``-ERR …``, ``-NOSCRIPT …``)."""


@dataclass(frozen=True)
class Target:
    """Where to connect and what to send first (AUTH, SELECT)."""

    unix_path: str | None
    host: str
    port: int
    db: int
    username: str | None
    password: str | None


def parse_url(url: str) -> Target | None:
    """The connection target of a redis-py style URL, or None when this client cannot use it."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if parts.scheme == "unix":
        db = int(query.get("db", ["0"])[0])
        return Target(unquote(parts.path), "", 0, db, None, _password(parts.password))
    if parts.scheme == "redis":
        path = parts.path.strip("/")
        db = int(path) if path else int(query.get("db", ["0"])[0])
        return Target(
            None,
            parts.hostname or "localhost",
            parts.port or 6379,
            db,
            unquote(parts.username) if parts.username else None,
            _password(parts.password),
        )
    return None


def _password(raw: str | None) -> str | None:
    return unquote(raw) if raw else None


def pack(args: tuple[Any, ...]) -> bytes:
    """One command in RESP: an array of bulk strings."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        if type(arg) is bytes:
            data = arg
        elif type(arg) is str:
            data = arg.encode()
        else:
            data = str(arg).encode()
        out += (b"$%d\r\n" % len(data), data, b"\r\n")
    return b"".join(out)


class _Incomplete(Exception):
    pass


def parse(buf: bytearray | bytes, pos: int) -> tuple[Reply | RespError, int]:
    """One RESP2 reply from ``buf`` at ``pos``: (value, position after it); _Incomplete when
    the buffer does not hold all of it yet."""
    end = buf.find(b"\r\n", pos)
    if end < 0:
        raise _Incomplete
    kind, line = buf[pos : pos + 1], buf[pos + 1 : end]
    pos = end + 2
    if kind == b":":
        return int(line), pos
    if kind == b"$":
        size = int(line)
        if size < 0:
            return None, pos
        if len(buf) < pos + size + 2:
            raise _Incomplete
        return bytes(buf[pos : pos + size]), pos + size + 2  # bytes(): a copy when a bytearray
    if kind == b"+":
        return bytes(line).decode(), pos
    if kind == b"-":
        return RespError(bytes(line).decode(errors="replace")), pos
    if kind == b"*":
        count = int(line)
        if count < 0:
            return None, pos
        items: list[Any] = []
        for _ in range(count):
            item, pos = parse(buf, pos)
            items.append(item)
        return items, pos
    raise ValueError(f"not a RESP reply: {bytes(kind)!r}")


class _Connection(asyncio.Protocol):
    """One socket; replies handed to waiting futures in the order their commands were sent."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiting: deque[asyncio.Future[Reply]] = deque()
        self.buffer = bytearray()
        self.lost = False
        self.outgoing: list[bytes] = []  # commands not yet written (one write per loop turn)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement the interface without subclassing asyncio's classes.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        pos = 0
        view = bytes(self.buffer)  # parsed as bytes: slices are then single copies
        try:
            while self.waiting:
                value, pos = parse(view, pos)
                future = self.waiting.popleft()
                if future.done():  # its caller timed out: the late reply is dropped
                    continue
                if isinstance(value, RespError):
                    future.set_exception(value)
                else:
                    future.set_result(value)
        except _Incomplete:
            pass
        except ValueError:  # a stream this client does not understand: give up on it
            self.close()
            return
        del self.buffer[:pos]

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(RespUnavailable("connection lost"))

    def send(self, data: bytes, loop: asyncio.AbstractEventLoop) -> asyncio.Future[Reply]:
        """Queue a command; the commands of one turn of the loop go out in one write.

        Each write to the socket is a system call that wakes Redis, and it was the largest
        single cost left on the lookup's fast path: requests that arrive together (the
        loop runs their tasks one after another) now share one.
        """
        future: asyncio.Future[Reply] = loop.create_future()
        assert self.transport is not None
        self.waiting.append(future)
        if not self.outgoing:
            loop.call_soon(self._write)
        self.outgoing.append(data)
        return future

    def _write(self) -> None:
        data, self.outgoing = b"".join(self.outgoing), []
        if self.transport is not None and not self.lost:
            self.transport.write(data)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
        self.connection_lost(None)


class RespClient:
    """Commands to one Redis server over one pipelined connection, opened on first use."""

    def __init__(self, target: Target, *, timeout_s: float) -> None:
        self.target = target
        self.timeout_s = timeout_s
        self._conn: _Connection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connecting: asyncio.Future[_Connection] | None = None
        self._scripts: set[bytes] = set()  # SHA1s this connection's server is known to hold

    @classmethod
    def from_url(cls, url: str, *, timeout_s: float) -> RespClient | None:
        target = parse_url(url)
        return cls(target, timeout_s=timeout_s) if target is not None else None

    async def call(self, *args: Any) -> Reply:
        """Send one command and return its reply; RespUnavailable when Redis does not answer
        within the timeout, the connection fails, or the reply is an error."""
        return await self._send(pack(args))

    async def script(self, source: str, keys: list[str], args: list[Any]) -> Reply:
        """Run a Lua script by its SHA1 (sent in full once per connection, if unknown)."""
        sha = _sha1(source)
        if sha in self._scripts:
            try:
                return await self.call(b"EVALSHA", sha, len(keys), *keys, *args)
            except RespError as exc:
                if not str(exc).startswith("NOSCRIPT"):
                    raise
                self._scripts.discard(sha)  # the server restarted or flushed its scripts
        reply = await self.call(b"EVAL", source, len(keys), *keys, *args)
        self._scripts.add(sha)
        return reply

    async def _send(self, data: bytes) -> Reply:
        loop = asyncio.get_running_loop()
        conn = self._conn
        if conn is None or conn.lost or self._loop is not loop:
            conn = await self._connect(loop)
        future = conn.send(data, loop)
        timer = loop.call_later(self.timeout_s, _expire, future, loop)
        try:
            return await future
        except RespError:
            raise
        except RespUnavailable:
            self._drop(conn)
            raise
        finally:
            timer.cancel()

    async def _connect(self, loop: asyncio.AbstractEventLoop) -> _Connection:
        pending = self._connecting
        if pending is not None and self._loop is loop and not pending.done():
            return await asyncio.shield(pending)
        self._loop = loop
        self._scripts.clear()
        self._connecting = loop.create_future()
        try:
            conn = await asyncio.wait_for(self._open(loop), self.timeout_s)
        except (OSError, TimeoutError, RespUnavailable) as exc:
            failure = RespUnavailable(f"cannot connect: {type(exc).__name__}")
            self._connecting.set_exception(failure)
            self._connecting.exception()  # retrieved: no "never retrieved" warning
            raise failure from exc
        self._conn = conn
        self._connecting.set_result(conn)
        return conn

    async def _open(self, loop: asyncio.AbstractEventLoop) -> _Connection:
        t = self.target
        if t.unix_path is not None:
            _, conn = await loop.create_unix_connection(_Connection, t.unix_path)
        else:
            _, conn = await loop.create_connection(_Connection, t.host, t.port)
        hello: list[bytes] = []
        if t.password is not None:
            auth = (b"AUTH", t.username, t.password) if t.username else (b"AUTH", t.password)
            hello.append(pack(auth))
        if t.db:
            hello.append(pack((b"SELECT", t.db)))
        try:
            for command in hello:
                await conn.send(command, loop)  # an error reply raises RespError here
        except RespUnavailable:
            conn.close()
            raise
        return conn

    def _drop(self, conn: _Connection) -> None:
        if self._conn is conn:
            self._conn = None
        conn.close()

    def close(self) -> None:
        if self._conn is not None:
            self._drop(self._conn)


@lru_cache(maxsize=16)
def _sha1(source: str) -> bytes:
    return hashlib.sha1(source.encode()).hexdigest().encode()


def _expire(future: asyncio.Future[Reply], loop: asyncio.AbstractEventLoop | None) -> None:
    """Fail the call unless its reply came; with ``loop``, first let one poll for I/O run.

    libuv (uvloop) runs due timers *before* it polls sockets, so under event-loop lag a reply
    already waiting in the socket would be declared late: a short grace lets the poll read it.
    """
    if future.done():
        return
    if loop is not None:
        loop.call_later(0.001, _expire, future, None)
        return
    future.set_exception(RespUnavailable("timeout"))
