"""Agency API clients: issue, rotate, revoke and check keys; subscriptions to registry events.

A key is ``<prefix>.<secret>``: the 12-character prefix is stored in clear and finds the row
in one indexed lookup; the 256-bit secret is stored only as SHA-256 keyed with a random
per-key salt (``sha256$<salt>$<hex>``). A slow hash (argon2) buys nothing against a random
256-bit secret and would cost tens of milliseconds on every API call.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.agency import repository, webhooks
from rnu.agency.models import ApiClient, Subscription, VerificationJob
from rnu.base import utcnow
from rnu.eligibility.rules import load_programs
from rnu.errors import Conflict, Forbidden, InvalidInput, NotFound

KEY_PREFIX = "rnu_"
ENROLLMENT_WRITE = "enrollment:write:"
# Scopes an agency may hold; enrollment:write:<PROGRAM> is checked against the program list.
SCOPES = frozenset(
    {
        "coverage:read",
        "person:read",
        "person:read:sensitive",
        "flags:read",
        "events:subscribe",
    }
)
EVENT_DEATH = "DEATH_REGISTERED"
_AGENCY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{1,79}$")
_SIGNING_LABEL = b"rnu/webhook-signing/v1\x00"


@dataclass(frozen=True)
class IssuedKey:
    """A client and its key; the key exists only in this object and is never stored."""

    client: ApiClient
    key: str


def _new_key() -> tuple[str, str, str]:
    prefix = KEY_PREFIX + secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    return prefix, f"{prefix}.{secret}", hash_secret(secret)


def hash_secret(secret: str, salt: str | None = None) -> str:
    """``sha256$<salt>$<hex>``: SHA-256 of the secret keyed with a random per-key salt."""
    salt = salt or secrets.token_hex(16)
    digest = hmac.new(bytes.fromhex(salt), secret.encode(), hashlib.sha256).hexdigest()
    return f"sha256${salt}${digest}"


def _secret_matches(secret: str, stored: str) -> bool:
    try:
        scheme, salt, _ = stored.split("$", 2)
    except ValueError:
        return False
    if scheme != "sha256":
        return False
    return hmac.compare_digest(hash_secret(secret, salt), stored)


def check_scopes(scopes: Iterable[str]) -> list[str]:
    """The scopes, de-duplicated and sorted; raise InvalidInput for any unknown one."""
    programs = set(load_programs())
    cleaned = sorted({s.strip() for s in scopes if s.strip()})
    for scope in cleaned:
        if scope in SCOPES:
            continue
        if scope.startswith(ENROLLMENT_WRITE) and scope[len(ENROLLMENT_WRITE) :] in programs:
            continue
        known = ", ".join(sorted(SCOPES)) + ", enrollment:write:<PROGRAM>"
        raise InvalidInput(f"unknown scope {scope!r}; known: {known}")
    if "person:read:sensitive" in cleaned and "person:read" not in cleaned:
        raise InvalidInput("person:read:sensitive needs person:read as well")
    return cleaned


async def add_client(
    session: AsyncSession,
    *,
    agency: str,
    scopes: Iterable[str],
    rate_per_minute: int = 600,
    daily_quota: int = 200_000,
    records_per_minute: int = 10_000,
    public_name: str | None = None,
) -> IssuedKey:
    """Create an agency client and its first key (shown once)."""
    if not _AGENCY_NAME.match(agency):
        raise InvalidInput("agency name: 2-80 letters, digits, spaces, dots, dashes")
    if await repository.get_by_agency(session, agency=agency) is not None:
        raise Conflict(f"agency {agency!r} already has a client; rotate its key instead")
    if rate_per_minute < 1 or daily_quota < 1 or records_per_minute < 1:
        raise InvalidInput("rate_per_minute, daily_quota and records_per_minute must be positive")
    prefix, key, key_hash = _new_key()
    client = ApiClient(
        agency=agency,
        key_prefix=prefix,
        key_hash=key_hash,
        scopes=check_scopes(scopes),
        rate_per_minute=rate_per_minute,
        daily_quota=daily_quota,
        records_per_minute=records_per_minute,
        public_name=clean_public_name(public_name),
    )
    await repository.add(session, client)
    return IssuedKey(client, key)


def clean_public_name(raw: str | None) -> str | None:
    """The institution's name as citizens read it: one line, 3-160 characters, or None."""
    if raw is None:
        return None
    name = " ".join(raw.split())
    if not 3 <= len(name) <= 160 or not any(c.isalpha() for c in name):
        raise InvalidInput("public name: 3-160 characters with letters")
    return name


async def _get(session: AsyncSession, ref: str) -> ApiClient:
    """A client by id, key prefix or agency name."""
    client = None
    if ref.isdigit():
        client = await repository.get_client(session, client_id=int(ref))
    if client is None and ref.startswith(KEY_PREFIX):
        client = await repository.get_by_prefix(session, prefix=ref)
    if client is None:
        client = await repository.get_by_agency(session, agency=ref)
    if client is None:
        raise NotFound(f"no agency client {ref!r}")
    return client


async def get_client(session: AsyncSession, *, ref: str) -> ApiClient:
    """A client by id, key prefix or agency name (NotFound otherwise)."""
    return await _get(session, ref)


async def rotate(session: AsyncSession, *, ref: str) -> IssuedKey:
    """Replace the client's key: the old one stops working at once."""
    client = await _get(session, ref)
    if client.revoked_at is not None:
        raise Conflict("the client is revoked; add a new one")
    prefix, key, key_hash = _new_key()
    client.key_prefix, client.key_hash, client.rotated_at = prefix, key_hash, utcnow()
    await repository.add(session, client)
    return IssuedKey(client, key)


async def revoke(session: AsyncSession, *, ref: str) -> ApiClient:
    """Disable the client for good (its rows stay for the audit trail)."""
    client = await _get(session, ref)
    if client.revoked_at is None:
        client.revoked_at = utcnow()
        await repository.add(session, client)
    return client


async def set_scopes(session: AsyncSession, *, ref: str, scopes: Iterable[str]) -> ApiClient:
    client = await _get(session, ref)
    client.scopes = check_scopes(scopes)
    await repository.add(session, client)
    return client


async def set_public_name(session: AsyncSession, *, ref: str, public_name: str) -> ApiClient:
    """Name the institution as citizens will read it in their access log."""
    client = await _get(session, ref)
    client.public_name = clean_public_name(public_name)
    await repository.add(session, client)
    return client


async def list_clients(session: AsyncSession) -> list[ApiClient]:
    return await repository.list_clients(session)


async def authenticate(session: AsyncSession, *, key: str) -> ApiClient | None:
    """The live client holding this key, or None (unknown, wrong secret or revoked)."""
    prefix, dot, secret = key.strip().partition(".")
    if not dot or not prefix.startswith(KEY_PREFIX) or len(prefix) > 12 or not secret:
        return None
    client = await repository.get_by_prefix(session, prefix=prefix)
    if client is None:
        hash_secret(secret)  # same work as a wrong secret: the prefix is not an oracle
        return None
    if not _secret_matches(secret, client.key_hash) or client.revoked_at is not None:
        return None
    return client


async def audit_reads(
    session: AsyncSession,
    *,
    actor_id: str,
    purpose: str,
    action: str,
    subjects: Iterable[str | None],
    fields: Iterable[str],
    details: dict[str, object] | None = None,
) -> int:
    """One audit row per distinct person an agency read (HMAC of the DNI, fields, purpose)."""
    distinct = sorted({s for s in subjects if s})
    if distinct:
        await repository.insert_reads(
            session,
            actor_id=actor_id,
            action=action,
            purpose=purpose,
            subjects=distinct,
            fields=sorted(set(fields)),
            details=dict(details or {}),
        )
    return len(distinct)


def actor_id(client: ApiClient) -> str:
    """How audit rows name an agency client."""
    return f"agency:{client.id}:{client.agency}"


# ---------------------------------------------------------------------------------------------
# Subscriptions.


def signing_secret(server_secret: bytes, subscription: Subscription) -> str:
    """The webhook signing secret of a subscription, derived so it is never stored."""
    message = _SIGNING_LABEL + f"{subscription.id}:{subscription.secret_nonce}".encode()
    return hmac.new(server_secret, message, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of ``timestamp.body``: the receiver recomputes it to trust the call."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def own_programs(client: ApiClient) -> frozenset[str]:
    """The programmes an agency runs: those it may send rolls for (``enrollment:write:X``)."""
    return frozenset(
        s[len(ENROLLMENT_WRITE) :] for s in client.scopes if s.startswith(ENROLLMENT_WRITE)
    )


def check_subscriber(client: ApiClient, program_code: str | None) -> frozenset[str]:
    """The programmes whose users' deaths this client may hear of (Forbidden if none).

    A death notice is a read of the person: it needs ``person:read`` besides
    ``events:subscribe``, and only for the agency's own programmes, so Pensión 65 hears of its
    own users' deaths and nobody else's (never every death in the registry).
    """
    scopes = set(client.scopes)
    if "events:subscribe" not in scopes or "person:read" not in scopes:
        raise Forbidden("death notices need the scopes events:subscribe and person:read")
    own = own_programs(client)
    if program_code is not None:
        if program_code not in own:
            raise Forbidden(f"{program_code} is not one of this agency's programmes")
        return frozenset({program_code})
    if not own:
        raise Forbidden("this agency runs no programme (no enrollment:write:<PROGRAM> scope)")
    return own


async def subscribe(
    session: AsyncSession,
    *,
    client: ApiClient,
    event_type: str,
    callback_url: str,
    program_code: str | None,
    webhook_policy: webhooks.WebhookPolicy,
) -> Subscription:
    """Register a webhook for an event type (DEATH_REGISTERED), for the agency's programmes.

    The callback URL is checked here (scheme, host, every address it resolves to) and again
    at each delivery; see ``rnu.agency.webhooks``.
    """
    if event_type != EVENT_DEATH:
        raise InvalidInput(f"unknown event type; supported: {EVENT_DEATH}")
    if program_code is not None and program_code not in load_programs():
        raise InvalidInput(f"unknown program {program_code!r}")
    check_subscriber(client, program_code)
    target = await webhooks.check(callback_url, webhook_policy)
    assert client.id is not None
    subscription = Subscription(
        client_id=client.id,
        event_type=event_type,
        program_code=program_code,
        callback_url=target.url,
        secret_nonce=secrets.token_hex(16),
    )
    await repository.add(session, subscription)
    return subscription


async def unsubscribe(session: AsyncSession, *, client: ApiClient, subscription_id: int) -> None:
    if not 1 <= subscription_id < 2**63:  # ids are int64: a larger one is no subscription
        raise NotFound("no such subscription")
    subscription = await repository.get_subscription(session, subscription_id=subscription_id)
    if subscription is None or subscription.client_id != client.id:
        raise NotFound("no such subscription")
    if subscription.revoked_at is None:
        subscription.revoked_at = utcnow()
        await repository.add(session, subscription)


async def list_subscriptions(session: AsyncSession, *, client: ApiClient) -> list[Subscription]:
    return await repository.list_subscriptions(session, client_id=client.id)


# ---------------------------------------------------------------------------------------------
# Bulk checks (verificaciones).


async def save_verification(
    session: AsyncSession,
    *,
    client: ApiClient,
    purpose: str,
    period: str | None,
    total: int,
    found: int,
    invalid: int,
    result_csv: str,
) -> VerificationJob:
    """Keep a bulk check's result so the agency can download it again."""
    assert client.id is not None
    job = VerificationJob(
        client_id=client.id,
        purpose=purpose,
        period=period,
        total=total,
        found=found,
        invalid=invalid,
        result_csv=result_csv,
    )
    await repository.add(session, job)
    return job


async def get_verification(
    session: AsyncSession, *, client_id: int, job_id: int
) -> VerificationJob:
    """A bulk check's result, only for the client that asked (NotFound for anyone else)."""
    job = await repository.get_verification(session, job_id=job_id)
    if job is None or job.client_id != client_id:
        raise NotFound("no such verification")
    return job
