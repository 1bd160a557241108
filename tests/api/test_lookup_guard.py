"""Birth-date guessing is bounded per DNI, and strangers cannot lock the holder out (11.3).

Before: five wrong dates for a DNI from anyone locked it for 15 minutes — its holder too — and
the fixed window still allowed 480 guesses per DNI per day. Now the plain lane (DNI + date)
closes after 5 failures and asks for the check character; the step-up lane (DNI with its check
character + date) has escalating budgets of its own. Known and unknown DNIs answer the same.
"""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from api.lookup_guard import (
    GuardPolicy,
    LocalWindows,
    LookupGuard,
    RateLimited,
    StepUpRequired,
    Tier,
    parse_tiers,
)
from api.state import AppState
from rnu.config import Settings
from rnu.normalize.documents import dni_check_chars
from tests.api.public_support import bind, make_client, seed_person

URL = "/api/v1/consulta"
HOLDER = "07654321"
UNKNOWN = "07654329"
BORN = "1950-03-09"


def checked(dni: str) -> str:
    return f"{dni}-{dni_check_chars(dni)[0]}"


async def guess(client: httpx.AsyncClient, dni: str, n: int, fecha: str | None = None):
    return await client.post(
        URL,
        json={"dni": dni, "fecha_nacimiento": fecha or f"19{n % 90 + 10:02d}-01-01"},
        headers={"X-Forwarded-For": f"10.1.{n // 250}.{n % 250 + 1}"},  # a new client each time
    )


@pytest.fixture
async def trusting(app_state: AppState, session: AsyncSession) -> AppState:
    await seed_person(session, doc_number=HOLDER, birth_on=date(1950, 3, 9))
    return bind(app_state, session, trusted_proxies="127.0.0.0/8")


async def test_strangers_cannot_lock_the_holder_out(trusting: AppState) -> None:
    async with await make_client(trusting) as client:
        statuses = [(await guess(client, HOLDER, n)).status_code for n in range(100)]
        plain = await guess(client, HOLDER, 500, BORN)
        holder = await guess(client, checked(HOLDER), 501, BORN)
    assert statuses == [404] * 5 + [428] * 95  # the date is not even checked after 5
    assert plain.status_code == 428
    assert plain.json()["error"] == "StepUpRequired"
    assert "dígito de verificación" in plain.json()["mensaje"]
    assert holder.status_code == 200, holder.text  # the holder, with the card, gets in
    assert holder.json()["persona"]["dni"]


async def test_the_step_up_lane_has_an_escalating_budget(trusting: AppState) -> None:
    async with await make_client(trusting) as client:
        statuses = [(await guess(client, checked(HOLDER), n)).status_code for n in range(20)]
        last = await guess(client, checked(HOLDER), 99)
    assert statuses == [404] * 3 + [429] * 17  # 3 an hour (then 10 a day, 30 in 30 days)
    assert int(last.headers["retry-after"]) > 3000


async def test_known_and_unknown_dnis_answer_byte_for_byte_the_same(trusting: AppState) -> None:
    async def run(dni: str) -> list[tuple[int, bytes]]:
        out = []
        async with await make_client(trusting) as client:
            for n in range(8):
                r = await guess(client, dni, n)
                out.append((r.status_code, r.content))
            for n in range(5):
                r = await guess(client, checked(dni), 100 + n)
                out.append((r.status_code, r.content))
        return out

    known, unknown = await run(HOLDER), await run(UNKNOWN)
    assert [s for s, _ in known] == [404] * 5 + [428] * 3 + [404] * 3 + [429] * 2
    assert known == unknown


async def test_one_client_has_a_failure_budget_across_dnis(
    app_state: AppState, session: AsyncSession
) -> None:
    state = bind(app_state, session, lookup_per_client=1000)
    async with await make_client(state) as client:
        statuses = [
            (
                await client.post(
                    URL, json={"dni": f"{52000000 + n:08d}", "fecha_nacimiento": "1970-01-01"}
                )
            ).status_code
            for n in range(15)
        ]
    assert statuses == [404] * 10 + [429] * 5


async def test_the_web_form_asks_for_the_check_character(trusting: AppState) -> None:
    async with await make_client(trusting) as client:
        for n in range(5):
            await guess(client, HOLDER, n)
        page = await client.post(
            "/consulta",
            data={"dni": HOLDER, "fecha_nacimiento": "09/03/1950"},
            headers={"X-Forwarded-For": "10.9.9.9", "Accept": "text/html"},
        )
    assert page.status_code == 428
    assert "dígito de verificación" in page.text
    assert HOLDER not in page.text


def test_the_arithmetic_at_the_limits() -> None:
    """A stranger with unlimited addresses, trying as often as the budgets admit, for a year.

    The figures are the ones docs/security.md states: <= 15 wrong dates for one DNI in its
    worst day, <= 35 in 30 days, <= 455 in a year (old: 480 a day, 175,200 a year).
    """
    settings = Settings(environment="test")
    policy = GuardPolicy(
        plain=Tier(settings.lookup_failures_per_dni, settings.lookup_plain_window_s),
        stepup=parse_tiers(settings.lookup_stepup_tiers),
        client=(),  # a fresh address for every guess: only the DNI's budgets bind
    )
    guard = LookupGuard(policy, LocalWindows())
    admitted: list[float] = []
    step = 300.0
    now = 0.0
    while now < 365 * 86_400:
        for stepped_up in (False, True):
            checks = guard.checks("c", "dni", stepped_up=stepped_up)
            try:
                guard.judge(checks, guard.read_local(checks, now), stepped_up=stepped_up)
            except (StepUpRequired, RateLimited):
                continue
            guard.count_local(guard.failures("c", "dni", stepped_up=stepped_up), now)
            admitted.append(now)
        now += step
    per_day = [sum(1 for t in admitted if d * 86_400 <= t < (d + 1) * 86_400) for d in range(365)]
    per_30 = max(sum(1 for t in admitted if s <= t < s + 30 * 86_400) for s in admitted)
    assert max(per_day) <= 15
    assert per_30 <= 35 + 10  # a window boundary may fall inside a sliding 30 days
    assert len(admitted) <= 455
    assert len(admitted) >= 400  # the limits are what binds, not the simulation's step
