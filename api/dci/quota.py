"""The record quota of an asynchronous DCI search: reserved at the ACK, settled by the job.

The synchronous search reserves the most records a call can return, answers, and gives back
what it did not return, all inside the request (``api.auth.agency.agency_reads``). An
asynchronous search answers later, in the worker, so the reservation outlives the request:

* ``hold`` (the route, before the ACK): the same reservation on the key's day and minute
  quotas — at most ``MAX_RECORDS_PER_CALL``, a spec-shaped 429 when it does not fit, so an
  agency past its quota is told now rather than in a callback — kept, not given back;
* the job answers with the reservation as its reader's bound (``max_records``), so the call
  is bounded across its items exactly as the synchronous one;
* ``settle`` (the job, once the answer was accepted or finally refused): what the call did
  not return goes back to the windows it was taken from. A callback never accepted returned
  nobody (its reads were rolled back, unaudited), so all of it goes back.

A reservation counted in-process because Redis was down at the ACK cannot be returned from
the worker's process; it stays spent (over-counting errs on the safe side, as the limiter
does). A job that never runs keeps its reservation until the window ends.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from api.auth import agency as agency_auth
from api.auth.agency import Agency, QuotaExceeded
from api.ratelimit import RateLimited, RateLimiter, Taken, limiter_for
from api.state import AppState


@dataclass(frozen=True)
class Held:
    """Records reserved for one asynchronous call, and where they were counted."""

    reserved: int
    windows: tuple[Taken, ...]

    def to_json(self) -> dict[str, Any]:
        return {"reserved": self.reserved, "windows": [asdict(t) for t in self.windows]}

    @classmethod
    def from_json(cls, raw: object) -> Held:
        """The reservation a pending request stored; an absent one reserved nothing."""
        if not isinstance(raw, dict):
            return cls(0, ())
        windows = tuple(
            Taken(key=str(w["key"]), window_s=int(w["window_s"]), local=bool(w["local"]))
            for w in raw.get("windows") or []
            if isinstance(w, dict)
        )
        return cls(int(raw.get("reserved") or 0), windows)


async def hold(state: AppState, agency: Agency, wanted: int) -> Held:
    """Reserve up to ``wanted`` records (at most the per-call bound) and keep them.

    QuotaExceeded (a 429 on the DCI routes), counting nothing, when they do not fit.
    """
    reserved = max(0, min(wanted, agency_auth.MAX_RECORDS_PER_CALL))
    if reserved == 0:
        return Held(0, ())
    limiter = limiter_for(state)
    address = f"agency:{agency.client_id}"
    client = agency.client
    windows = (
        ("agency-records-day", client.daily_quota, agency_auth.DAY_S, "per day"),
        ("agency-records-minute", client.records_per_minute, agency_auth.MINUTE_S, "per minute"),
    )
    taken: list[Taken] = []
    for scope, limit, window_s, name in windows:
        try:
            taken.append(
                await limiter.take(scope, address, amount=reserved, limit=limit, window_s=window_s)
            )
        except RateLimited as exc:
            for spent in taken:
                await limiter.give_back(spent, reserved)
            raise QuotaExceeded(
                exc.retry_after_s,
                f"this call may return up to {reserved} person records, more than is left of "
                f"the key's quota of {limit} {name}",
            ) from None
    return Held(reserved, tuple(taken))


async def settle(
    limiter: RateLimiter, held: Held, returned: int, *, same_process: bool = False
) -> None:
    """Give back what the call reserved and did not return: to its Redis windows, and to
    in-process ones only from the process that counted them (``same_process``)."""
    unused = held.reserved - min(max(returned, 0), held.reserved)
    for taken in held.windows:
        if same_process or not taken.local:
            await limiter.give_back(taken, unused)
