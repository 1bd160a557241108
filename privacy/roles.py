"""Who is asking: the caller's role and what it is bound to (a DNI, districts, scopes)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

SCOPE_PERSON_READ = "person:read"
SCOPE_PERSON_READ_SENSITIVE = "person:read:sensitive"


class Role(StrEnum):
    """The kinds of caller a policy distinguishes; anything unauthenticated is PUBLIC."""

    PUBLIC = "public"
    CITIZEN = "citizen"
    VOLUNTEER = "volunteer"
    ANALYST = "analyst"
    AGENCY = "agency"


@dataclass(frozen=True)
class Caller:
    """The authenticated identity a response is filtered for.

    A citizen is bound to the HMAC of the one DNI they proved (never the DNI itself, so the
    caller object can be logged and cached); a volunteer to district ubigeos; an agency to
    API-key scopes. ``actor_id`` names staff and agencies in audit rows.
    """

    role: Role
    subject_hmac: str | None = None
    districts: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    actor_id: str | None = None

    def __post_init__(self) -> None:
        # A citizen caller without a subject would silently degrade to public; refusing it
        # makes an auth bug loud instead of quietly wrong.
        if self.role is Role.CITIZEN and not self.subject_hmac:
            raise ValueError("a citizen caller needs the HMAC of the DNI they verified")

    def has_scope(self, scope: str) -> bool:
        """True when an agency caller was granted this scope."""
        return self.role is Role.AGENCY and scope in self.scopes
