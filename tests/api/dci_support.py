"""DCI request envelopes for the tests (header fields as the spec requires them)."""

from __future__ import annotations

import uuid
from typing import Any

OWN_PROGRAMME = ("events:subscribe", "person:read", "enrollment:write:PENSION65")


def envelope(action: str, message: dict[str, Any], **header: Any) -> dict[str, Any]:
    return {
        "signature": "",
        "header": {
            "version": "1.0.0",
            "message_id": str(uuid.uuid4()),
            "message_ts": "2026-11-27T10:00:00Z",
            "action": action,
            "sender_id": "pension65.gob.pe",
            "total_count": 1,
            **header,
        },
        "message": message,
    }


def subscribe_envelope(url: str, programme: str | None = "PENSION65") -> dict[str, Any]:
    """One DEATH_REGISTERED subscription item, for ``programme`` (None: the agency's own)."""
    criteria: dict[str, Any] = {"reg_event_type": "DEATH_REGISTERED", "notify_url": url}
    if programme:
        criteria["programme_code"] = programme
    return envelope(
        "subscribe",
        {
            "transaction_id": f"t-{uuid.uuid4().hex[:8]}",
            "subscribe_request": [
                {
                    "reference_id": "r1",
                    "timestamp": "2026-11-27T10:00:00Z",
                    "subscribe_criteria": criteria,
                }
            ],
        },
    )
