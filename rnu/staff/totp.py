"""The staff's second factor: TOTP (RFC 6238, 6 digits, 30-second steps) via pyotp.

Supervisors and admins (``TOTP_ROLES``) must give a code at every login; any other staff account
that enrolled must too. Why each piece:

* **Sealed secret.** The base32 secret is stored AES-GCM-encrypted under a key derived from the
  server secret (``RNU_SECRET_KEY``) and bound to the account's id, so a copy of the table or a
  backup does not hand out second factors. It is shown once, at enrolment, and never logged.
* **One use per step.** A code is accepted only for a 30-second step later than the last one
  accepted for that account (``totp_last_step``, moved forward by one conditional UPDATE), so a
  code seen over a shoulder or in a proxy log cannot be replayed, even by two requests racing.
* **Clock drift.** The current step and one on either side are accepted (±30 s).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.base import utcnow
from rnu.errors import InvalidInput, NotFound
from rnu.sqlexec import execute
from rnu.staff import repository
from rnu.staff.models import STAFF_ROLES, TOTP_ROLES, StaffUser

ISSUER = "RNU MIDIS"
STEP_S = 30
DRIFT_STEPS = 1
_SEALED_PREFIX = "v1:"


@dataclass(frozen=True)
class Enrolment:
    """What the operator hands to the account's owner, once: the secret and its otpauth URI."""

    username: str
    secret: str
    uri: str


def required(user: StaffUser) -> bool:
    """Whether this account's login needs a code: supervisors and admins always, others once
    they enrolled."""
    return user.role in TOTP_ROLES or user.totp_secret is not None


def _key(server_secret: bytes) -> bytes:
    return hmac.new(server_secret, b"staff-totp-secret", hashlib.sha256).digest()


def seal(server_secret: bytes, user_id: int, secret: str) -> str:
    nonce = os.urandom(12)
    box = AESGCM(_key(server_secret)).encrypt(nonce, secret.encode(), f"staff:{user_id}".encode())
    return _SEALED_PREFIX + base64.b64encode(nonce + box).decode()


def unseal(server_secret: bytes, user_id: int, sealed: str) -> str | None:
    """The secret, or None when it was sealed under another server secret or tampered with."""
    if not sealed.startswith(_SEALED_PREFIX):
        return None
    try:
        raw = base64.b64decode(sealed[len(_SEALED_PREFIX) :])
        plain = AESGCM(_key(server_secret)).decrypt(raw[:12], raw[12:], f"staff:{user_id}".encode())
    except (InvalidTag, ValueError):
        return None
    return plain.decode()


async def enrol(
    session: AsyncSession, *, username: str, server_secret: bytes, now: datetime | None = None
) -> Enrolment:
    """Give a staff account a new TOTP secret (replacing any old one, whose codes stop working)."""
    user = await repository.get_user_by_username(session, username=username.strip().lower())
    if user is None:
        raise NotFound("no such user")
    if user.role not in STAFF_ROLES:
        raise InvalidInput("only staff accounts (analyst, supervisor, admin) use a TOTP code")
    assert user.id is not None
    secret = pyotp.random_base32()
    user.totp_secret = seal(server_secret, user.id, secret)
    user.totp_last_step = None
    user.totp_enrolled_at = now or utcnow()
    session.add(user)
    await session.flush()
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)
    return Enrolment(username=user.username, secret=secret, uri=uri)


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The 30-second step whose code is ``code`` (now ± DRIFT_STEPS), or None."""
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    found = None
    for offset in range(-DRIFT_STEPS, DRIFT_STEPS + 1):
        when = now + timedelta(seconds=offset * STEP_S)
        # Every candidate is compared (constant work whichever matches).
        if hmac.compare_digest(totp.at(when), code):
            found = totp.timecode(when)
    return found


async def verify_and_consume(
    session: AsyncSession,
    *,
    user: StaffUser,
    code: str,
    server_secret: bytes,
    now: datetime | None = None,
) -> bool:
    """True once per step for the account's current code; False for a wrong, stale or replayed
    code, or an account with no (readable) secret."""
    if user.totp_secret is None or user.id is None:
        return False
    secret = unseal(server_secret, user.id, user.totp_secret)
    if secret is None:
        return False
    step = matching_step(secret, code, now or utcnow())
    if step is None:
        return False
    # Moves forward only: a second request with the same code (or an older one) updates nothing.
    last = col(StaffUser.totp_last_step)
    query = (
        update(StaffUser)
        .where(col(StaffUser.id) == user.id)
        .where(last.is_(None) | (last < step))
        .values(totp_last_step=step)
    )
    result = await execute(session, query)
    if not result.rowcount:
        return False
    user.totp_last_step = step
    return True


def current_code(secret: str, now: datetime | None = None) -> str:
    """The code an authenticator app shows now (for the demo and the tests)."""
    return pyotp.TOTP(secret).at(now or utcnow())
