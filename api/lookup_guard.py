"""How many birth dates anyone may try for one DNI, without letting strangers lock its holder out.

The self-lookup's second factor is the birth date. Before, five wrong dates from *anyone* locked
a DNI for 15 minutes: a stranger could keep its holder out for good, and the fixed window still
allowed 480 guesses per DNI per day. Now failures are counted per DNI in two lanes:

* **Plain lane** — the 8-digit DNI and the birth date. After ``lookup_failures_per_dni`` (5)
  failures in ``lookup_plain_window_s`` (30 days) the plain lane closes for that DNI: the answer
  is ``StepUpRequired`` and the birth date is not even checked.
* **Step-up lane** — the DNI *with its check character* (printed on the card after the hyphen,
  ``12345678-9``) and the birth date. Its failures have a budget of their own, escalating over
  three windows (``lookup_stepup_tiers``: 3 an hour, 10 a day, 30 in 30 days), so strangers
  who fill the plain lane do not touch the holder's way in.

Failures are counted for unknown DNIs exactly as for known ones, and a closed lane answers the
same for both, so neither ``StepUpRequired`` nor ``RateLimited`` says whether a DNI exists
(the answers for a wrong date and an unknown DNI stay byte-identical). Each client also has a
failure budget across DNIs (``lookup_client_failure_tiers``), on top of its request window.

What this bounds and what it does not (the arithmetic is in ``docs/security.md``): at most
5 + 30 = 35 wrong dates per DNI per 30 days, ≤ 15 in any one day, ≤ 455 in a year, whoever
and however many send them. The check character is computed from the number (python-stdnum
knows the algorithm), so it stops the casual stranger, not a determined one; the lane budgets
are what bound a determined one, and a determined one who spends the step-up budget can
delay its holder (never for longer than the tier's window). A factor the stranger cannot
compute — the DNI's issue date, when a RENIEC feed provides it — plugs into the same lane.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rnu.cache import key
from rnu.coverage.service import has_check_character as has_check_character
from rnu.errors import RateLimited as RateLimited  # the domain errors, re-exported
from rnu.errors import StepUpRequired as StepUpRequired
from usecases.wording import STEP_UP_MESSAGE as STEP_UP_MESSAGE


@dataclass(frozen=True)
class Tier:
    """At most ``limit`` events per ``window_s`` seconds (a fixed window from the first one)."""

    limit: int
    window_s: int


@lru_cache(maxsize=16)
def parse_tiers(spec: str) -> tuple[Tier, ...]:
    """``"3/3600,10/86400"`` → two tiers; refuses anything else at start, loudly."""
    tiers = []
    for part in spec.split(","):
        if not part.strip():
            continue
        limit, _, window = part.strip().partition("/")
        tier = Tier(int(limit), int(window))
        if tier.limit < 1 or tier.window_s < 1:
            raise ValueError(f"a limit tier must be positive: {part!r}")
        tiers.append(tier)
    return tuple(tiers)


@dataclass(frozen=True)
class GuardPolicy:
    """The numbers, read once from settings."""

    plain: Tier
    stepup: tuple[Tier, ...]
    client: tuple[Tier, ...]

    def counters(self, client: str, subject: str, *, stepped_up: bool) -> list[tuple[str, Tier]]:
        """Every counter one failure adds to: the client's tiers and the DNI's lane."""
        out = [(key("rl", "consulta", "fail", client, t.window_s), t) for t in self.client]
        if stepped_up:
            out += [(key("rl", "consulta", "stepup", subject, t.window_s), t) for t in self.stepup]
        else:
            out.append((key("rl", "consulta", "plain", subject), self.plain))
        return out


class LocalWindows:
    """In-process fixed windows, for while Redis is unavailable (bounded, oldest dropped)."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self.max_keys = max_keys
        self._windows: dict[str, tuple[float, int]] = {}

    def get(self, name: str, window_s: int, now: float) -> tuple[int, int]:
        started, count = self._windows.get(name, (now, 0))
        if now - started >= window_s:
            return 0, 0
        return count, int(started + window_s - now) + 1

    def incr(self, name: str, window_s: int, now: float, amount: int = 1) -> tuple[int, int]:
        """Count ``amount`` events; return (count in window, seconds until it ends)."""
        started, count = self._windows.pop(name, (now, 0))
        if now - started >= window_s:
            started, count = now, 0
        self._windows[name] = (started, count + amount)  # re-inserted last: dict order is age
        while len(self._windows) > self.max_keys:
            del self._windows[next(iter(self._windows))]
        return count + amount, int(started + window_s - now) + 1

    def remember(self, name: str, window_s: int, now: float, count: int, retry_s: int) -> None:
        """Hold at least ``count`` in ``name``'s window until ``retry_s`` from now.

        What Redis last said of a spent budget: a process that refused a client on Redis's
        counters keeps refusing it when Redis drops out a moment later, instead of handing
        it a fresh local budget (the fallback fails closed for what it knows).
        """
        current, _ = self.get(name, window_s, now)
        if current >= count:
            return
        started = now + min(max(retry_s, 0), window_s) - window_s
        self._windows.pop(name, None)
        self._windows[name] = (started, count)
        while len(self._windows) > self.max_keys:
            del self._windows[next(iter(self._windows))]


class LookupGuard:
    """The policy applied to counter values; the I/O is the caller's (one Redis round trip)."""

    def __init__(self, policy: GuardPolicy, local: LocalWindows) -> None:
        self.policy = policy
        self.local = local

    def checks(self, client: str, subject: str, *, stepped_up: bool) -> list[tuple[str, Tier]]:
        return self.policy.counters(client, subject, stepped_up=stepped_up)

    def judge(
        self,
        checks: Sequence[tuple[str, Tier]],
        values: Sequence[tuple[int, int]],
        *,
        stepped_up: bool,
    ) -> None:
        """Raise RateLimited (a budget of this client or of this DNI's lane is spent) or
        StepUpRequired (plain lane closed for this DNI); return when the attempt may go on."""
        for (_, tier), (count, retry) in zip(checks, values, strict=True):
            if count < tier.limit:
                continue
            if tier is self.policy.plain and not stepped_up:
                raise StepUpRequired
            raise RateLimited(retry if retry > 0 else tier.window_s)

    def remember_spent(
        self,
        checks: Sequence[tuple[str, Tier]],
        values: Sequence[tuple[int, int]],
        now: float | None = None,
    ) -> None:
        """Mirror into the local windows every budget these (Redis) values show spent."""
        now = time.time() if now is None else now
        for (name, tier), (count, retry) in zip(checks, values, strict=True):
            if count >= tier.limit:
                self.local.remember(name, tier.window_s, now, tier.limit, retry or tier.window_s)

    def read_local(
        self, checks: Sequence[tuple[str, Tier]], now: float | None = None
    ) -> list[tuple[int, int]]:
        now = time.time() if now is None else now
        return [self.local.get(name, tier.window_s, now) for name, tier in checks]

    def failures(self, client: str, subject: str, *, stepped_up: bool) -> list[tuple[str, int]]:
        """Every (counter, window) one wrong birth date (or unknown DNI) adds to."""
        return [
            (name, tier.window_s)
            for name, tier in self.checks(client, subject, stepped_up=stepped_up)
        ]

    def count_local(self, items: Sequence[tuple[str, int]], now: float | None = None) -> None:
        now = time.time() if now is None else now
        for name, window_s in items:
            self.local.incr(name, window_s, now)
