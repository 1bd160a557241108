"""Staff login hardening (issue 11.11): throttle per address and per account, TOTP, no lockout.

Before: 40 failed logins from one address got no 429; five wrong passwords from anyone locked an
analyst out for 15 minutes (again and again); a supervisor or admin needed no second factor.
Each test below failed on that code. Real PostgreSQL and Redis (the counters' Redis is the
app's): addresses are told apart through a trusted proxy's ``X-Forwarded-For``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from api.auth.login_guard import DEVICE_COOKIE
from api.state import AppState
from rnu.base import utcnow
from rnu.staff.totp import current_code
from tests.factories import STAFF_PASSWORD, create_staff_user
from tests.rnu.staff.support import bind, enrol_totp, make_client

API = "/api/v1/analista/sesion"
PROXY = {"trusted_proxies": "127.0.0.1"}


@pytest.fixture
async def client(
    app_state: AppState, session: AsyncSession, tmp_path: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """The app behind a trusted proxy (the test peer), so each test picks the client address."""
    state = bind(app_state, session, data_dir=tmp_path, **PROXY)
    async with await make_client(state) as http:
        yield http


def at(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


async def attempt(
    client: httpx.AsyncClient,
    username: str,
    password: str,
    address: str,
    code: str = "",
    cookies: dict[str, str] | None = None,
) -> httpx.Response:
    body = {"usuario": username, "contrasena": password, "codigo": code}
    client.cookies.clear()
    for name, value in (cookies or {}).items():
        client.cookies.set(name, value)
    return await client.post(API, json=body, headers=at(address))


class TestThrottlePerAddress:
    async def test_one_address_gets_429_after_ten_failures_across_accounts(
        self, session: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        users = [await create_staff_user(session) for _ in range(11)]
        codes = [
            (await attempt(client, u.username, "no-es-la-clave-1", "203.0.113.7")).status_code
            for u in users
        ]
        assert codes == [401] * 10 + [429]
        refused = await attempt(client, users[0].username, STAFF_PASSWORD, "203.0.113.7")
        assert refused.status_code == 429  # the right password is not even checked
        assert 25 <= int(refused.headers["Retry-After"]) <= 30  # the address lane's first wait
        body = refused.json()
        assert body["error"] == "RateLimited"
        assert "espere unos segundos" in body["mensaje"]
        # Another address, same account: not affected by the first one's failures.
        other = await attempt(client, users[0].username, STAFF_PASSWORD, "198.51.100.9")
        assert other.status_code == 200

    async def test_the_login_page_answers_429_in_spanish_with_the_wait(
        self, session: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        user = await create_staff_user(session)
        form_page = await client.get("/analista/ingresar", headers=at("203.0.113.8"))
        token = client.cookies["rnu_csrf_ingreso"]
        assert 'name="codigo"' in form_page.text
        statuses = []
        for n in range(11):
            response = await client.post(
                "/analista/ingresar",
                data={"usuario": f"nadie{n}", "contrasena": "otra-clave-mala", "csrf_token": token},
                headers={**at("203.0.113.8"), "Accept": "text/html"},
            )
            statuses.append(response.status_code)
        assert statuses == [401] * 10 + [429]
        assert 25 <= int(response.headers["Retry-After"]) <= 30
        assert "text/html" in response.headers["content-type"]
        assert "Hubo demasiados intentos de ingreso fallidos" in response.text
        assert "espere unos segundos antes de volver a intentarlo" in response.text
        assert user.username not in response.text


class TestNoLockoutByStrangers:
    async def test_strangers_cannot_lock_the_owner_out_of_their_browser(
        self, session: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        owner = await create_staff_user(session)
        first = await attempt(client, owner.username, STAFF_PASSWORD, "192.0.2.10")
        assert first.status_code == 200
        device = {DEVICE_COOKIE: first.cookies[DEVICE_COOKIE]}
        # 40 strangers' wrong passwords, from 40 addresses: the account lane backs off ...
        outcomes = [
            (await attempt(client, owner.username, f"adivina-{n:04d}-x", f"10.0.{n}.1")).status_code
            for n in range(40)
        ]
        assert outcomes[:5] == [401] * 5
        assert set(outcomes[5:]) == {429}  # the account lane waits: a botnet gets 5, not 40
        # ... but the owner, from the browser they logged in from, gets in at once.
        back = await attempt(client, owner.username, STAFF_PASSWORD, "192.0.2.10", cookies=device)
        assert back.status_code == 200
        # A browser cookie issued to another account gives no lane of its own.
        other = await create_staff_user(session)
        forged = await attempt(client, other.username, STAFF_PASSWORD, "192.0.2.11", cookies=device)
        assert forged.status_code == 200
        theirs = {DEVICE_COOKIE: forged.cookies[DEVICE_COOKIE]}
        misuse = await attempt(client, owner.username, STAFF_PASSWORD, "192.0.2.12", cookies=theirs)
        assert misuse.status_code == 429  # owner's account lane, still waiting

    async def test_a_supervisor_gets_in_with_the_code_from_a_new_browser(
        self, session: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        owner = await create_staff_user(session, role="supervisor")
        secret = await enrol_totp(session, owner.username)
        for n in range(8):
            await attempt(client, owner.username, f"adivina-{n:04d}-x", f"10.1.{n}.1", "000000")
        no_code = await attempt(client, owner.username, STAFF_PASSWORD, "192.0.2.20")
        assert no_code.status_code == 429
        ok = await attempt(
            client, owner.username, STAFF_PASSWORD, "192.0.2.20", current_code(secret)
        )
        assert ok.status_code == 200
        assert ok.json()["rol"] == "supervisor"

    async def test_past_a_waiting_account_lane_a_code_is_needed_even_for_an_analyst(
        self, session: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        """Sending any code skips the account lane's wait, so it must not let a password alone
        in: an analyst with no TOTP cannot be guessed through that door."""
        owner = await create_staff_user(session)
        for n in range(6):
            await attempt(client, owner.username, f"adivina-{n:04d}-x", f"10.2.{n}.1")
        through = await attempt(client, owner.username, STAFF_PASSWORD, "10.2.99.1", "123456")
        assert through.status_code == 401
        # With the lane open (a fresh account), an analyst's stray code is ignored.
        fresh = await create_staff_user(session)
        ok = await attempt(client, fresh.username, STAFF_PASSWORD, "10.2.99.2", "123456")
        assert ok.status_code == 200


class TestTotp:
    async def test_admin_needs_the_code_once(
        self, session: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        admin = await create_staff_user(session, role="admin")
        secret = await enrol_totp(session, admin.username)
        without = await attempt(client, admin.username, STAFF_PASSWORD, "192.0.2.30")
        assert without.status_code == 401
        assert "código de 6 dígitos" in without.json()["mensaje"]
        wrong_code = str((int(current_code(secret)) + 1) % 1_000_000).zfill(6)
        wrong = await attempt(client, admin.username, STAFF_PASSWORD, "192.0.2.30", wrong_code)
        assert wrong.status_code == 401
        code = current_code(secret)
        right = await attempt(client, admin.username, STAFF_PASSWORD, "192.0.2.30", code)
        assert right.status_code == 200
        assert right.json()["rol"] == "admin"
        replay = await attempt(client, admin.username, STAFF_PASSWORD, "192.0.2.31", code)
        assert replay.status_code == 401  # the same code, again: refused
        # The same body as a wrong password: the password is never confirmed on its own.
        bad_password = await attempt(client, admin.username, "otra-clave-mala", "192.0.2.31", code)
        assert replay.json() == bad_password.json()

    async def test_someone_with_the_password_cannot_guess_codes_from_many_addresses(
        self, session: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        """A code is the way past a waiting account lane, so wrong codes after the right
        password have a lane of their own; the owner's browser is not bound by it."""
        owner = await create_staff_user(session, role="supervisor")
        secret = await enrol_totp(session, owner.username)
        first = await attempt(
            client, owner.username, STAFF_PASSWORD, "192.0.2.50", current_code(secret)
        )
        assert first.status_code == 200
        device = {DEVICE_COOKIE: first.cookies[DEVICE_COOKIE]}
        right = current_code(secret, utcnow() + timedelta(seconds=30))  # the next step's: unused
        wrong = str((int(right) + 500_000) % 1_000_000).zfill(6)
        guesses = [
            (
                await attempt(client, owner.username, STAFF_PASSWORD, f"10.3.{n}.1", wrong)
            ).status_code
            for n in range(5)
        ]
        assert guesses == [401] * 5
        # The code lane waits now: even the right code is not compared (and not spent), and the
        # answer is the plain failure, not a 429 that would confirm the password.
        held = await attempt(client, owner.username, STAFF_PASSWORD, "10.3.9.1", right)
        assert held.status_code == 401
        await session.refresh(owner)
        used = owner.totp_last_step
        # The owner's browser: its own lane, the code compared.
        ok = await attempt(client, owner.username, STAFF_PASSWORD, "192.0.2.50", right, device)
        assert ok.status_code == 200
        await session.refresh(owner)
        assert owner.totp_last_step != used

    async def test_a_supervisor_not_enrolled_cannot_log_in(
        self, session: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        supervisor = await create_staff_user(session, role="supervisor")
        response = await attempt(client, supervisor.username, STAFF_PASSWORD, "192.0.2.40", "1234")
        assert response.status_code == 401

    async def test_the_login_page_takes_the_code(
        self, session: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        supervisor = await create_staff_user(session, role="supervisor")
        secret = await enrol_totp(session, supervisor.username)
        await client.get("/analista/ingresar")
        token = client.cookies["rnu_csrf_ingreso"]
        fields = {"usuario": supervisor.username, "contrasena": STAFF_PASSWORD, "csrf_token": token}
        refused = await client.post("/analista/ingresar", data=fields)
        assert refused.status_code == 401
        assert "código de 6 dígitos" in refused.text
        fields["codigo"] = current_code(secret)
        done = await client.post("/analista/ingresar", data=fields)
        assert done.status_code == 303
        assert "rnu_sesion" in client.cookies

    async def test_the_secret_is_sealed_in_the_database(self, session: AsyncSession) -> None:
        admin = await create_staff_user(session, role="admin")
        secret = await enrol_totp(session, admin.username)
        await session.refresh(admin)
        assert admin.totp_secret is not None
        assert secret not in admin.totp_secret
        assert admin.totp_secret.startswith("v1:")
