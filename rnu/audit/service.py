"""Write the audit trail: staff and volunteer reads of personal data, and every staff action.

Rows are written in the caller's transaction (a read that is rolled back leaves no row, a read
that is answered always has one). The subject is the keyed HMAC of the DNI
(``rnu.hashing.dni_hmac``) so the citizen's access log finds the rows without the trail ever
holding a DNI.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.audit.models import AuditEvent
from rnu.base import utcnow
from rnu.hashing import dni_hmac


@dataclass(frozen=True)
class Actor:
    """Who acts: ``kind`` is analyst | volunteer | agency | system; ``id`` e.g. 'analyst:ana'."""

    kind: str
    id: str
    purpose: str | None = None


# The documents shown as a person's DNI: a DNI, and a CUI (the DNI number of a child).
DNI_DOCUMENTS = frozenset({"DNI", "CUI"})


def subject_of(secret: bytes, dni: str | None) -> str | None:
    """The audit subject for a person's DNI (None for people without one)."""
    return dni_hmac(secret, dni) if dni else None


def document_subject(secret: bytes, doc_type: str | None, doc_number: str | None) -> str | None:
    """The audit subject of a person shown with this document (a DNI or a CUI; else None).

    The citizen's access log looks rows up by the HMAC of the number on their card, and a
    child's CUI is that number, so a read of a CUI holder is audited like a DNI holder's.
    """
    return subject_of(secret, doc_number) if doc_type in DNI_DOCUMENTS else None


async def record(
    session: AsyncSession,
    *,
    actor: Actor,
    action: str,
    subject_hmac: str | None = None,
    fields: Sequence[str] = (),
    details: dict[str, Any] | None = None,
) -> None:
    """One audit row (an action, or a read of one person's data)."""
    session.add(
        AuditEvent(
            at=utcnow(),
            actor_kind=actor.kind,
            actor_id=actor.id,
            action=action,
            purpose=actor.purpose,
            subject_hmac=subject_hmac,
            fields=list(fields),
            details=details or {},
        )
    )
    await session.flush()


async def record_reads(
    session: AsyncSession,
    *,
    actor: Actor,
    action: str,
    subjects: Iterable[str | None],
    fields: Sequence[str],
    details: dict[str, Any] | None = None,
) -> int:
    """One row per distinct person read (a list page, an export), in one INSERT."""
    distinct = sorted({s for s in subjects if s})
    if not distinct:
        return 0
    now = utcnow()
    rows = [
        {
            "at": now,
            "actor_kind": actor.kind,
            "actor_id": actor.id,
            "action": action,
            "purpose": actor.purpose,
            "subject_hmac": subject,
            "fields": list(fields),
            "details": details or {},
        }
        for subject in distinct
    ]
    await session.exec(insert(AuditEvent), params=rows)
    return len(rows)
