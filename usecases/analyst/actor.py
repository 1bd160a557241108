"""Who does an analyst job: the ``Analyst`` the edges build from a staff session."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sqlmodel.ext.asyncio.session import AsyncSession

from privacy.roles import Caller
from rnu.audit import service as audit
from rnu.audit.purposes import analyst_purpose
from rnu.errors import Forbidden
from usecases.context import Clock

SUPERVISOR_ROLES = frozenset({"supervisor", "admin"})


@dataclass(frozen=True, kw_only=True)
class Analyst:
    """Who does the job and with what: a staff member's session, audit name, privacy caller.

    Built by the edge from the logged-in staff session; the use cases never see a request.
    """

    session: AsyncSession
    secret: bytes
    actor: audit.Actor
    caller: Caller
    username: str
    role: str
    clock: Clock = field(default_factory=Clock)

    @property
    def is_supervisor(self) -> bool:
        return self.role in SUPERVISOR_ROLES

    def reading_for(self, purpose: str | None) -> audit.Actor:
        """The audit name with the purpose the analyst opens a person for (Ley 29733).

        PurposeRequired (nothing read, nothing audited) without one of ``ANALYST_PURPOSES``;
        the citizen's "¿Quién revisó sus datos?" words the stored code.
        """
        return replace(self.actor, purpose=analyst_purpose(purpose))

    def require_supervisor(self) -> None:
        if not self.is_supervisor:
            raise Forbidden("bulk actions need a supervisor")
