"""Accounts, passwords and sessions of staff (analyst, supervisor, admin) and volunteers.

Passwords are argon2id hashes (argon2-cffi defaults), refused when common or trivial
(``rnu.staff.passwords``). Supervisors and admins also give a TOTP code (``rnu.staff.totp``).
There is no lockout here any more: a per-account lockout let any stranger lock an analyst out,
so failed logins are throttled at the edge instead, per address and per account with backoff
(``api.auth.login_guard``). An unknown username costs the same hash work as a known one, so
timing does not reveal which usernames exist. Sessions are rows in PostgreSQL
keyed by the SHA-256 of a random token: revocable, and unaffected by a Redis outage.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.base import utcnow
from rnu.errors import Conflict, InvalidInput, NotFound
from rnu.staff import repository, totp
from rnu.staff.models import ACCOUNT_ROLES, STAFF_ROLES, StaffSession, StaffUser
from rnu.staff.passwords import MIN_PASSWORD_LENGTH as MIN_PASSWORD_LENGTH
from rnu.staff.passwords import check_password
from rnu.ubigeo.reference import by_inei

SESSION_IDLE = timedelta(minutes=30)
SESSION_MAX = timedelta(hours=12)
# Writing last_seen_at on every request would turn every read into a write.
TOUCH_EVERY = timedelta(minutes=1)

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
_hasher = PasswordHasher()
# Verified against when the username is unknown, so both paths cost one argon2 verify.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class NewSession:
    """What the edge sends back after a login: the cookie token and the CSRF token."""

    token: str
    csrf_token: str
    expires_at: datetime
    user: StaffUser


@dataclass(frozen=True)
class ActiveSession:
    """A live session and its account, as resolved from a cookie."""

    user: StaffUser
    csrf_token: str
    token_hash: str

    @property
    def is_staff(self) -> bool:
        return self.user.role in STAFF_ROLES

    @property
    def actor(self) -> str:
        """How audit rows and flag history name this person."""
        return f"{self.user.role}:{self.user.username}"


def token_hash(token: str) -> str:
    """The stored form of a session token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _check_districts(districts: Iterable[str]) -> list[str]:
    cleaned = sorted({d.strip() for d in districts if d.strip()})
    unknown = [d for d in cleaned if by_inei(d) is None]
    if unknown:
        raise InvalidInput(f"unknown district ubigeo(s): {', '.join(unknown)}")
    return cleaned


async def create_user(
    session: AsyncSession,
    *,
    username: str,
    role: str,
    password: str,
    organisation: str | None = None,
    districts: Iterable[str] = (),
) -> StaffUser:
    """Create a staff account, or a volunteer bound to an organisation and districts."""
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise InvalidInput("username: 3-64 characters, lowercase letters, digits, . _ -")
    if role not in ACCOUNT_ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ACCOUNT_ROLES)}")
    check_password(password, username=username)
    cleaned: list[str] = []
    if role == "volunteer":
        if not (organisation and organisation.strip()):
            raise InvalidInput("a volunteer needs the organisation that signed the agreement")
        cleaned = _check_districts(districts)
        if not cleaned:
            raise InvalidInput("a volunteer needs at least one assigned district")
    if await repository.get_user_by_username(session, username=username) is not None:
        raise Conflict(f"user {username} already exists")
    user = StaffUser(
        username=username,
        role=role,
        password_hash=await asyncio.to_thread(hash_password, password),
        organisation=organisation.strip() if organisation else None,
        districts=cleaned,
    )
    session.add(user)
    await session.flush()
    return user


async def set_password(session: AsyncSession, *, username: str, password: str) -> StaffUser:
    """Replace a password (refused when common or trivial) and end the account's sessions."""
    user = await repository.get_user_by_username(session, username=username.strip().lower())
    if user is None:
        raise NotFound("no such user")
    check_password(password, username=user.username)
    user.password_hash = await asyncio.to_thread(hash_password, password)
    assert user.id is not None
    await repository.revoke_sessions(session, now=utcnow(), user_id=user.id)
    session.add(user)
    await session.flush()
    return user


async def set_active(session: AsyncSession, *, username: str, is_active: bool) -> StaffUser:
    """Disable (ending its sessions) or re-enable an account."""
    user = await repository.get_user_by_username(session, username=username.strip().lower())
    if user is None:
        raise NotFound("no such user")
    user.is_active = is_active
    if not is_active:
        assert user.id is not None
        await repository.revoke_sessions(session, now=utcnow(), user_id=user.id)
    session.add(user)
    await session.flush()
    return user


@dataclass(frozen=True)
class LoginCheck:
    """What a login attempt came to. ``code_failed``: the password was right and the code was
    not (wrong, replayed, missing, or not checked because the account's code lane waits) — the
    edge counts those per account, so a stranger who has the password still cannot try codes
    faster than that lane allows. The caller answers every failure the same way."""

    user: StaffUser | None
    code_failed: bool = False


async def check_login(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    code: str = "",
    server_secret: bytes = b"",
    require_code: bool = False,
    codes_allowed: bool = True,
    now: datetime | None = None,
) -> LoginCheck:
    """The account when the password is right, the account active and — where a second factor
    is needed — the TOTP code right and unused.

    A code is needed when the account requires one (``totp.required``: supervisors and admins,
    who cannot log in at all before ``rnu users totp-enrol``) or when the caller says so
    (``require_code``: the edge let this attempt past a waiting account lane only because a
    code came with it, so it may succeed only with a right one). ``codes_allowed`` False: the
    code is not even compared (too many wrong codes for this account lately).
    """
    now = now or utcnow()
    user = await repository.get_user_by_username(session, username=username.strip().lower())
    stored = user.password_hash if user is not None else _DUMMY_HASH
    matches = await asyncio.to_thread(_verify, stored, password)
    if user is None or not matches or not user.is_active:
        return LoginCheck(None)
    if (require_code or totp.required(user)) and not (
        codes_allowed
        and await totp.verify_and_consume(
            session, user=user, code=code, server_secret=server_secret, now=now
        )
    ):
        return LoginCheck(None, code_failed=True)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = await asyncio.to_thread(hash_password, password)
    user.last_login_at = now
    session.add(user)
    await session.flush()
    return LoginCheck(user)


async def authenticate(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    code: str = "",
    server_secret: bytes = b"",
    now: datetime | None = None,
) -> StaffUser | None:
    """``check_login``'s account, or None (for callers that need no more than that)."""
    check = await check_login(
        session,
        username=username,
        password=password,
        code=code,
        server_secret=server_secret,
        now=now,
    )
    return check.user


async def open_session(
    session: AsyncSession,
    *,
    user: StaffUser,
    previous_token: str | None = None,
    now: datetime | None = None,
) -> NewSession:
    """Start a session with fresh tokens; any session the browser already had is ended.

    A new token at every login defeats session fixation: a token planted before the login is
    worth nothing after it.
    """
    now = now or utcnow()
    if previous_token:
        await repository.revoke_sessions(session, now=now, token_hash=token_hash(previous_token))
    assert user.id is not None
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = now + SESSION_MAX
    session.add(
        StaffSession(
            token_hash=token_hash(token),
            user_id=user.id,
            csrf_token=csrf,
            created_at=now,
            last_seen_at=now,
            expires_at=expires,
        )
    )
    await session.flush()
    return NewSession(token=token, csrf_token=csrf, expires_at=expires, user=user)


async def resolve_session(
    session: AsyncSession, *, token: str, now: datetime | None = None
) -> ActiveSession | None:
    """The live session for this cookie token, or None (unknown, revoked, idle, expired)."""
    if not token or len(token) > 128:
        return None
    now = now or utcnow()
    found = await repository.get_session_by_hash(session, token_hash=token_hash(token))
    if found is None:
        return None
    row, user = found
    if (
        row.revoked_at is not None
        or row.expires_at <= now
        or row.last_seen_at + SESSION_IDLE <= now
        or not user.is_active
    ):
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        session.add(row)
        await session.flush()
    return ActiveSession(user=user, csrf_token=row.csrf_token, token_hash=row.token_hash)


async def close_session(session: AsyncSession, *, token: str) -> None:
    """Log out: the token stops working at once."""
    await repository.revoke_sessions(session, now=utcnow(), token_hash=token_hash(token))


def tokens_match(expected: str | None, presented: str | None) -> bool:
    """Constant-time comparison of two tokens; any text may be presented, never a 500.

    ``secrets.compare_digest`` refuses non-ASCII ``str`` with a TypeError, so a forged token
    like ``ñ`` used to crash the check: both sides are compared as UTF-8 bytes.
    """
    if not expected or not presented:
        return False
    return secrets.compare_digest(expected.encode(), presented.encode())


def csrf_matches(active: ActiveSession, presented: str | None) -> bool:
    """Constant-time comparison of the presented CSRF token with the session's."""
    return tokens_match(active.csrf_token, presented)
