"""Agency API keys at the edge: Bearer key → Caller with scopes, a declared purpose, limits.

Every agency request must say why it asks (``X-Purpose``, one code of ``PURPOSES``); the
purpose goes into each audit row the request writes. Limits are per client, counted in Redis
and failing closed to low in-process caps when Redis is down (``api.ratelimit``):

- requests per minute (``api_client.rate_per_minute``), checked with the key;
- **person records** per day and per minute (``daily_quota`` / ``records_per_minute``): a
  request counts by the people it returns, not as one. An endpoint reserves the most records a
  call can return before it runs (``reserve_records``, at most ``MAX_RECORDS_PER_CALL``), its
  reader of people refuses past the reservation (``usecases.agency.AgencyReads``'s
  ``max_records``: the bound across aliases and DCI items), and what the call did not return
  goes back when it ends. ``agency_reads`` wraps the two for an endpoint.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.exceptions import HTTPException

from api.deps import SessionDep, StateDep
from api.ratelimit import RateLimited, limiter_for
from api.state import AppState
from privacy.roles import Caller, Role
from rnu.agency import service as agency_service
from rnu.agency.models import ApiClient
from rnu.audit.service import Actor
from rnu.errors import Forbidden, InvalidInput
from usecases.agency import AgencyActor, AgencyReads

PURPOSE_HEADER = "X-Purpose"
# Declared purposes (Ley 29733: data is used only for the purpose it was given for).
PURPOSES: dict[str, str] = {
    "elegibilidad": "deciding whether a person qualifies for a program",
    "pago": "checking a payment roll before paying",
    "control_filtraciones": "finding people who receive a benefit without qualifying",
    "fallecidos": "stopping benefits of deceased people",
    "verificacion": "bulk check of who is in which program",
    "carga_padron": "sending a program roll",
    "estadistica": "aggregate statistics",
    "fiscalizacion": "audit by an oversight body",
}
DAY_S = 86_400
MINUTE_S = 60
# The most person records one call may return, however many aliases or DCI items ask.
MAX_RECORDS_PER_CALL = 1_000

_bearer = HTTPBearer(auto_error=False, description="Agency API key: `Bearer rnu_xxxxxxxx.…`")


class Unauthorized(HTTPException):
    """No key, or a key that is unknown, wrong or revoked (all look the same)."""

    def __init__(self) -> None:
        super().__init__(
            status_code=401,
            detail="a valid agency API key is required (Authorization: Bearer <key>)",
            headers={"WWW-Authenticate": "Bearer"},
        )


@dataclass(frozen=True)
class Agency:
    """The authenticated agency client of this request, and the purpose it declared."""

    client: ApiClient
    caller: Caller
    purpose: str

    @property
    def actor(self) -> Actor:
        return Actor(kind="agency", id=self.caller.actor_id or "agency", purpose=self.purpose)

    @property
    def client_id(self) -> int:
        assert self.client.id is not None
        return self.client.id

    def require(self, scope: str) -> None:
        """Raise Forbidden unless the client holds ``scope``."""
        if not self.caller.has_scope(scope):
            raise Forbidden(f"this API key lacks the scope {scope}")


def check_purpose(raw: str | None) -> str:
    purpose = (raw or "").strip().lower()
    if purpose not in PURPOSES:
        raise InvalidInput(
            f"declare the purpose of the request in the {PURPOSE_HEADER} header, one of: "
            + ", ".join(sorted(PURPOSES))
        )
    return purpose


async def authenticate_agency(
    request: Request,
    session: SessionDep,
    state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Agency:
    """The agency behind the Bearer key, after its purpose and rate limits are checked."""
    cached = getattr(request.state, "agency", None)
    if isinstance(cached, Agency):
        return cached
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized()
    client = await agency_service.authenticate(session, key=credentials.credentials)
    if client is None or client.id is None:
        raise Unauthorized()
    purpose = check_purpose(request.headers.get(PURPOSE_HEADER))
    limiter = limiter_for(state)
    address = f"agency:{client.id}"
    await limiter.hit("agency", address, limit=client.rate_per_minute, window_s=MINUTE_S)
    caller = Caller(
        role=Role.AGENCY,
        scopes=frozenset(client.scopes),
        actor_id=agency_service.actor_id(client),
    )
    agency = Agency(client=client, caller=caller, purpose=purpose)
    request.state.caller = caller
    request.state.agency = agency
    return agency


AgencyDep = Annotated[Agency, Depends(authenticate_agency)]


def require_scope(scope: str) -> Callable[[Agency], Awaitable[Agency]]:
    """A dependency: the agency, refused with 403 unless it holds ``scope``."""

    async def check(agency: AgencyDep) -> Agency:
        agency.require(scope)
        return agency

    return check


# ---------------------------------------------------------------------------------------------
# Record quotas: charged by the people a call returns.


class QuotaExceeded(RateLimited):
    """The client's person-record quota (per day or per minute) cannot cover this call."""

    def __init__(self, retry_after_s: int, detail: str) -> None:
        super().__init__(retry_after_s, detail)
        self.detail = detail


@dataclass
class RecordQuota:
    """The records reserved for one call, and how many distinct people it returned.

    The reservation is also the call's bound: pass ``reserved`` as the reader's
    ``max_records`` (``usecases.agency.AgencyReads``), and ``spend`` what it returned.
    """

    reserved: int
    used: int = 0

    def spend(self, returned: int) -> None:
        self.used = min(max(returned, self.used), self.reserved)


@asynccontextmanager
async def reserve_records(
    state: AppState,
    agency: Agency,
    wanted: int,
    *,
    cap: int | None = None,
    per_minute: bool = True,
) -> AsyncIterator[RecordQuota]:
    """Reserve up to ``wanted`` records (at most ``cap``) on the client's day and minute
    quotas; QuotaExceeded when they do not fit. Unused records go back when the block ends.

    A bulk check (a file of up to 50,000 documents) passes its own ``cap`` and
    ``per_minute=False``: it is bounded by the day's quota, not by a burst rate it exceeds
    by design."""
    reserved = max(0, min(wanted, MAX_RECORDS_PER_CALL if cap is None else cap))
    quota = RecordQuota(reserved=reserved)
    if reserved == 0:
        yield quota
        return
    limiter = limiter_for(state)
    address = f"agency:{agency.client_id}"
    client = agency.client
    taken = []
    try:
        windows = [("agency-records-day", client.daily_quota, DAY_S, "per day")]
        if per_minute:
            windows.append(
                ("agency-records-minute", client.records_per_minute, MINUTE_S, "per minute")
            )
        for scope, limit, window_s, name in windows:
            try:
                taken.append(
                    await limiter.take(
                        scope, address, amount=reserved, limit=limit, window_s=window_s
                    )
                )
            except RateLimited as exc:
                raise QuotaExceeded(
                    exc.retry_after_s,
                    f"this call may return up to {reserved} person records, more than is "
                    f"left of the key's quota of {limit} {name}",
                ) from None
        yield quota
    finally:
        for spent in taken:
            await limiter.give_back(spent, reserved - quota.used)


@asynccontextmanager
async def agency_reads(
    state: AppState,
    agency: Agency,
    session: AsyncSession,
    secret: bytes,
    *,
    action: str,
    wanted: int = MAX_RECORDS_PER_CALL,
    cap: int | None = None,
    per_minute: bool = True,
) -> AsyncIterator[AgencyReads]:
    """The reader of one agency call with its records reserved: at most ``wanted`` people
    (capped per call), charged by the people it returned when the block ends.

    For DCI sync endpoints, GraphQL and the like: ``async with agency_reads(...) as reads``
    around answering every item, then ``await reads.audit()`` inside the block.
    """
    async with reserve_records(state, agency, wanted, cap=cap, per_minute=per_minute) as quota:
        reads = AgencyReads(
            session,
            secret,
            AgencyActor.of_client(agency.client, agency.purpose),
            action=action,
            max_records=quota.reserved,
        )
        try:
            yield reads
        finally:
            quota.spend(reads.returned)
