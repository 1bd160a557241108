"""Accounts and sessions: validation, expiry, revocation, evidence sniffing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.base import utcnow
from rnu.errors import Conflict, InvalidInput
from rnu.hashing import dni_hmac
from rnu.staff import service
from rnu.staff.volunteer import sniff_media_type
from tests.factories import STAFF_PASSWORD, create_staff_user


class TestCreateUser:
    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            ({"username": "A b", "role": "analyst"}, "username"),
            ({"username": "ana", "role": "jefe"}, "role"),
            ({"username": "ana", "role": "analyst", "password": "corta"}, "password"),
            ({"username": "vol", "role": "volunteer", "districts": ["150101"]}, "organisation"),
            ({"username": "vol", "role": "volunteer", "organisation": "X"}, "district"),
            (
                {
                    "username": "vol",
                    "role": "volunteer",
                    "organisation": "X",
                    "districts": ["999999"],
                },
                "unknown district",
            ),
        ],
    )
    async def test_refused(
        self, session: AsyncSession, fields: dict[str, Any], message: str
    ) -> None:
        values = {"password": STAFF_PASSWORD, **fields}
        with pytest.raises(InvalidInput, match=message):
            await service.create_user(session, **values)

    async def test_duplicate(self, session: AsyncSession) -> None:
        user = await create_staff_user(session)
        with pytest.raises(Conflict):
            await create_staff_user(session, username=user.username)

    async def test_password_is_hashed(self, session: AsyncSession) -> None:
        user = await create_staff_user(session)
        assert user.password_hash.startswith("$argon2id$")
        assert STAFF_PASSWORD not in user.password_hash


WEAK = [
    ("123456789012", "only digits"),  # the probe's admin password
    ("987654321098", "only digits"),
    ("password1234", "common passwords"),
    ("Qwertyuiop123", "common passwords"),
    ("iloveyou2026!", "digits or symbols added"),
    ("Midis2026!!!!", "digits or symbols added"),
    ("aaaaaaaaaaaa", "different characters"),
    ("abababababab", "different characters"),
    ("abcdefghijklm", "sequence"),
    ("qwertyuiopasd", "keyboard"),
    ("corta-11chr", "at least 12"),
]


class TestPasswords:
    """Issue 11.11: a 12-character ``123456789012`` admin password was accepted."""

    @pytest.mark.parametrize(("password", "reason"), WEAK)
    async def test_common_and_trivial_passwords_are_refused(
        self, session: AsyncSession, password: str, reason: str
    ) -> None:
        with pytest.raises(InvalidInput, match=reason):
            await service.create_user(session, username="admin1", role="admin", password=password)

    async def test_a_password_holding_the_username_is_refused(self, session: AsyncSession) -> None:
        with pytest.raises(InvalidInput, match="username"):
            await service.create_user(
                session, username="rosario", role="analyst", password="Rosario-de-Lima-7"
            )

    async def test_changing_to_a_common_password_is_refused(self, session: AsyncSession) -> None:
        user = await create_staff_user(session)
        with pytest.raises(InvalidInput, match="common"):
            await service.set_password(session, username=user.username, password="password1234")
        await service.set_password(session, username=user.username, password="tres-llamas-y-un-rio")

    def test_the_shipped_list_is_read(self) -> None:
        from rnu.staff.passwords import common_passwords

        common = common_passwords()
        assert len(common) == 19_640
        assert {"123456", "password", "iloveyou", "1234567890123"} <= common


class TestSessions:
    async def test_idle_and_revoked_sessions_die(self, session: AsyncSession) -> None:
        user = await create_staff_user(session)
        now = utcnow()
        new = await service.open_session(session, user=user, now=now)
        assert await service.resolve_session(session, token=new.token, now=now) is not None
        later = now + service.SESSION_IDLE + timedelta(seconds=1)
        assert await service.resolve_session(session, token=new.token, now=later) is None
        fresh = await service.open_session(session, user=user)
        await service.close_session(session, token=fresh.token)
        assert await service.resolve_session(session, token=fresh.token) is None
        assert await service.resolve_session(session, token="made-up") is None

    async def test_disabling_ends_sessions(self, session: AsyncSession) -> None:
        user = await create_staff_user(session)
        new = await service.open_session(session, user=user)
        await service.set_active(session, username=user.username, is_active=False)
        assert await service.resolve_session(session, token=new.token) is None
        assert (
            await service.authenticate(session, username=user.username, password=STAFF_PASSWORD)
            is None
        )


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"%PDF-1.7\n", "application/pdf"),
        (b"<html>", None),
        (b"MZ\x90\x00", None),
        (b"GIF89a", None),
    ],
)
def test_sniff(head: bytes, expected: str | None) -> None:
    assert sniff_media_type(head) == expected


def test_hmac_is_privacys() -> None:
    from privacy.masking import dni_hmac as privacy_hmac

    assert dni_hmac(b"k", "01234567") == privacy_hmac(b"k", "01234567")
