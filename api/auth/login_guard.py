"""The staff login throttle: backoff per client address and per account, without lockouts.

The outside probe found no per-address limit (40 failures, no 429) and a per-account lockout
any stranger could trigger (five wrong passwords locked an analyst out for 15 minutes, again
and again). Failed logins are now counted in *lanes*, each with exponential backoff:

* **address** — the client (``client_address``: the peer, or what a trusted proxy says), across
  every account it tries. Bounds one machine's guessing and password spraying.
* **account** — the username, whoever tries it. Bounds a botnet's guessing of one account.
* **device** — the account from a browser it logged in from before (an HMAC-signed
  ``rnu_dispositivo`` cookie, set at each successful login). Used *instead of* the account lane.

A lane lets ``free`` failed attempts through at once; after ``n ≥ free`` failures the next
attempt must wait ``base · 2^(n−free)`` seconds (at most ``cap``) after the last one, and the
lane forgets everything ``forget`` seconds after its last attempt. A wait is answered 429 with
``Retry-After``; the password is not even checked.

Why strangers cannot lock the owner out: the account lane is the only one strangers share with
the owner, and it never blocks (a) the owner's own browser, which has its device lane, nor (b)
an attempt that brings a TOTP code — such an attempt may only succeed with the right password
*and* an unused right code (``require_code``), so guessing through it is hopeless (one in a
million per guess on top of the password) and the address lane still slows it. An analyst
without a code on a new browser during an attack waits out the account lane's backoff (at most
``cap``), as does an attacker.

A fourth lane, **code**, per account, counts wrong TOTP codes that came with the right
password: while it waits, codes are not even compared (a plain failure, not a 429, which would
confirm the password), so someone who has the password still cannot try codes from many
addresses faster than it allows; from the owner's browser the device lane bounds codes instead.

Each attempt *reserves* a failure on its lanes in the same atomic step as the check (a Lua
script), so parallel requests cannot slip through the free attempts together. A success clears
the account and device lanes (the owner proved themselves) and gives the reservation back to
the address lane. Counters live in the counters' Redis, under keyed digests of the address and
username; when Redis is unavailable each process keeps its own lanes with half the free
attempts (fail closed, per client, like the public limits).
"""

from __future__ import annotations

import hmac
import math
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from hashlib import sha256
from weakref import WeakKeyDictionary

from redis.asyncio import Redis

from api.state import AppState
from rnu.cache import Cache, CacheUnavailable, cache_for, digest, key
from rnu.config import Settings
from rnu.errors import RateLimited

DEVICE_COOKIE = "rnu_dispositivo"
DEVICE_MAX_AGE_S = 180 * 86_400


@dataclass(frozen=True)
class Backoff:
    """``free`` failures, then waits of base·2^(n−free) s, capped; forgotten after ``forget_s``."""

    free: int
    base_s: int
    cap_s: int
    forget_s: int

    def wait_after(self, failures: int) -> int:
        """Seconds the next attempt must wait after the last, with ``failures`` counted."""
        if failures < self.free:
            return 0
        return int(min(self.cap_s, self.base_s * 2 ** min(failures - self.free, 40)))

    def degraded(self) -> Backoff:
        """The policy while Redis is unavailable: half the free attempts, per process."""
        return Backoff(max(1, self.free // 2), self.base_s, self.cap_s, self.forget_s)


@lru_cache(maxsize=16)
def parse_backoff(spec: str) -> Backoff:
    """``"10/30/900/86400"`` → Backoff(10, 30, 900, 86400); anything else refused loudly."""
    parts = [int(p) for p in spec.split("/")]
    if len(parts) != 4 or parts[0] < 1 or min(parts[1:]) < 1 or parts[2] < parts[1]:
        raise ValueError(f"a login backoff is free/base_s/cap_s/forget_s: {spec!r}")
    return Backoff(*parts)


@dataclass(frozen=True)
class Lane:
    """One counter an attempt passes: its key, its policy, whether it may refuse the attempt
    (``checked``) and what a success does to it (``clear``: forget; else give one back)."""

    key: str
    policy: Backoff
    checked: bool
    clear: bool


@dataclass(frozen=True)
class Admission:
    """An admitted attempt: where it was counted, whether only a TOTP code may let it in, and
    the account's code lane (wrong codes after a right password)."""

    lanes: tuple[Lane, ...]
    local: bool
    require_code: bool
    codes: Lane
    by_device: bool = False


# KEYS: the lanes' hashes. ARGV[1]: now; then per lane: checked (1/0), free, base, cap, forget.
# Returns {0, bypassed} (admitted, one failure reserved on every lane; bypassed = 1 when a lane
# that was not checked is waiting) or {lane index, seconds to wait}.
_ADMIT = """
local now = tonumber(ARGV[1])
local bypassed = 0
for i, name in ipairs(KEYS) do
  local o = 2 + (i - 1) * 5
  local v = redis.call('HMGET', name, 'n', 't')
  local n = tonumber(v[1]) or 0
  local free = tonumber(ARGV[o + 1])
  if n >= free then
    local wait = math.min(tonumber(ARGV[o + 3]), tonumber(ARGV[o + 2]) * 2 ^ math.min(n - free, 40))
    local ready = (tonumber(v[2]) or 0) + wait
    if now < ready then
      if ARGV[o] == '1' then
        return {i, math.ceil(ready - now)}
      end
      bypassed = 1
    end
  end
end
for i, name in ipairs(KEYS) do
  local o = 2 + (i - 1) * 5
  redis.call('HINCRBY', name, 'n', 1)
  redis.call('HSET', name, 't', ARGV[1])
  redis.call('EXPIRE', name, tonumber(ARGV[o + 4]))
end
return {0, bypassed}
"""
# KEYS[1]: a lane; returns its {failures, time of the last one as text}.
_READ = "return redis.call('HMGET', KEYS[1], 'n', 't')"
# KEYS: lanes to give one reservation back to (never below zero).
_GIVE_BACK = """
for _, name in ipairs(KEYS) do
  if (tonumber(redis.call('HGET', name, 'n')) or 0) > 0 then
    redis.call('HINCRBY', name, 'n', -1)
  end
end
return 0
"""


class LocalLanes:
    """The same lanes in this process, for while Redis is unavailable (bounded, oldest dropped)."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self.max_keys = max_keys
        self._lanes: dict[str, tuple[int, float]] = {}

    def admit(self, lanes: Sequence[Lane], now: float) -> tuple[int, bool]:
        """(seconds to wait, 0 when admitted; whether a lane not checked was waiting), having
        reserved a failure on every lane when admitted."""
        bypassed = False
        for lane in lanes:
            n, last = self._current(lane, now)
            policy = lane.policy.degraded()
            if n >= policy.free and now < last + policy.wait_after(n):
                if lane.checked:
                    return math.ceil(last + policy.wait_after(n) - now), False
                bypassed = True
        for lane in lanes:
            n, _ = self._current(lane, now)
            self._lanes.pop(lane.key, None)
            self._lanes[lane.key] = (n + 1, now)  # re-inserted last: dict order is age
        while len(self._lanes) > self.max_keys:
            del self._lanes[next(iter(self._lanes))]
        return 0, bypassed

    def read(self, lane: Lane, now: float) -> tuple[int, float]:
        return self._current(lane, now)

    def succeeded(self, lanes: Sequence[Lane]) -> None:
        for lane in lanes:
            n, last = self._lanes.get(lane.key, (0, 0.0))
            if lane.clear or n <= 1:
                self._lanes.pop(lane.key, None)
            else:
                self._lanes[lane.key] = (n - 1, last)

    def _current(self, lane: Lane, now: float) -> tuple[int, float]:
        n, last = self._lanes.get(lane.key, (0, 0.0))
        return (0, 0.0) if now - last >= lane.policy.forget_s else (n, last)


def _mac(secret: bytes, username: str, device: str) -> str:
    message = f"device\x00{username.strip().lower()}\x00{device}".encode()
    return hmac.new(secret, message, sha256).hexdigest()[:32]


def device_cookie(secret: bytes, username: str) -> str:
    """A new browser token for this account: a random id and an HMAC binding it to the account."""
    device = secrets.token_urlsafe(16)
    return f"{device}.{_mac(secret, username, device)}"


def device_of(secret: bytes, username: str, cookie: str | None) -> str | None:
    """The browser's id when its cookie was issued to this account, else None."""
    if not cookie or len(cookie) > 128 or "." not in cookie:
        return None
    device, _, mac = cookie.partition(".")
    expected = _mac(secret, username, device)
    return device if hmac.compare_digest(expected.encode(), mac.encode()) else None


class LoginGuard:
    """The lanes of one login attempt, checked and counted in one Redis round trip."""

    def __init__(
        self, cache: Cache, settings: Settings, clock: Callable[[], float] = time.time
    ) -> None:
        self.cache = cache
        self.settings = settings
        self.clock = clock
        self.local = LocalLanes()
        self.address = parse_backoff(settings.login_address_backoff)
        self.account = parse_backoff(settings.login_account_backoff)
        self.device = parse_backoff(settings.login_device_backoff)
        self.code = parse_backoff(settings.login_code_backoff)
        self._secret = settings.secret_key.get_secret_value().encode()

    def lanes(
        self, address: str, username: str, *, device: str | None, code_presented: bool
    ) -> tuple[Lane, ...]:
        name = username.strip().lower()
        by_address = Lane(
            key("rl", "login", "address", digest(self._secret, "login-address", address)),
            self.address,
            checked=True,
            clear=False,
        )
        if device is not None:
            own = digest(self._secret, "login-device", f"{name}\x00{device}")
            return by_address, Lane(key("rl", "login", "device", own), self.device, True, True)
        account = key("rl", "login", "account", digest(self._secret, "login-account", name))
        return by_address, Lane(account, self.account, checked=not code_presented, clear=True)

    def code_lane(self, username: str) -> Lane:
        name = digest(self._secret, "login-code", username.strip().lower())
        return Lane(key("rl", "login", "code", name), self.code, checked=True, clear=True)

    async def admit(
        self, address: str, username: str, *, device: str | None, code_presented: bool
    ) -> Admission:
        """Count this attempt as a failure on its lanes, or raise RateLimited with the wait."""
        lanes = self.lanes(address, username, device=device, code_presented=code_presented)
        codes = self.code_lane(username)
        now = self.clock()
        args: list[str | int | float] = [repr(now)]
        for lane in lanes:
            p = lane.policy
            args += [1 if lane.checked else 0, p.free, p.base_s, p.cap_s, p.forget_s]
        try:
            index, value = await self.cache.run_script(_ADMIT, [lane.key for lane in lanes], args)
        except CacheUnavailable:
            retry, bypassed = self.local.admit(lanes, now)
            if retry:
                raise RateLimited(retry, "too many failed logins") from None
            return Admission(lanes, True, bypassed, codes, by_device=device is not None)
        if int(index):
            raise RateLimited(int(value), "too many failed logins")
        # Let past a waiting account lane only because a code came: only a right code lets in.
        return Admission(lanes, False, bool(int(value)), codes, by_device=device is not None)

    async def codes_allowed(self, admission: Admission) -> bool:
        """Whether the account's code lane lets a code be compared now. A wait here is not a
        429 (that would confirm the password): the attempt just fails like any other. From the
        account's own browser the device lane bounds codes instead, so someone who has the
        password cannot shut the owner out by spending the code lane."""
        if admission.by_device:
            return True
        lane, now = admission.codes, self.clock()
        if admission.local:
            n, last = self.local.read(lane, now)
            policy = lane.policy.degraded()
        else:
            try:
                raw_n, raw_t = await self.cache.run_script(_READ, [lane.key], [])
            except CacheUnavailable:
                return False  # fail closed: a supervisor retries, a guesser gets nothing
            n, last, policy = int(raw_n or 0), float(raw_t or 0), lane.policy
        return n < policy.free or now >= last + policy.wait_after(n)

    async def code_failed(self, admission: Admission) -> None:
        """Count a wrong code after a right password on the account's code lane (from the owner's
        browser, the device lane already counted it)."""
        if admission.by_device:
            return
        lane = Lane(admission.codes.key, admission.codes.policy, checked=False, clear=True)
        now = self.clock()
        if admission.local:
            self.local.admit([lane], now)
            return
        p = lane.policy
        try:
            await self.cache.run_script(
                _ADMIT, [lane.key], [repr(now), 0, p.free, p.base_s, p.cap_s, p.forget_s]
            )
        except CacheUnavailable:
            self.local.admit([lane], now)

    async def succeeded(self, admission: Admission) -> None:
        """The owner got in: forget the account's (or browser's) failures, give the address its
        reservation back."""
        if admission.local:
            self.local.succeeded([*admission.lanes, admission.codes])
            return
        try:
            cleared = [lane.key for lane in admission.lanes if lane.clear]
            await self.cache.delete(*cleared, admission.codes.key)
            await self.cache.run_script(
                _GIVE_BACK, [lane.key for lane in admission.lanes if not lane.clear], []
            )
        except CacheUnavailable:
            return  # the reservation stays: errs on the safe side, forgotten with the lane


_guards: WeakKeyDictionary[Redis, LoginGuard] = WeakKeyDictionary()


def login_guard_for(state: AppState) -> LoginGuard:
    """One guard per app state (its counters' Redis), so the local lanes live per process."""
    redis = state.counters if state.counters is not None else state.redis
    guard = _guards.get(redis)
    if guard is None or guard.settings is not state.settings:
        guard = _guards[redis] = LoginGuard(cache_for(redis), state.settings)
    return guard
