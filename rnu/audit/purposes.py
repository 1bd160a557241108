"""Why staff open a person's data: the purposes an analyst must choose from (Ley 29733).

Agencies declare theirs per request (``X-Purpose``, ``api.auth.agency.PURPOSES``); analysts
choose one when they open a person (a flag's or a review item's detail), and it is stored in
the audit row, so the citizen's "¿Quién revisó sus datos?" can say why in words
(``usecases.wording.PURPOSES``).
"""

from __future__ import annotations

from typing import Literal, get_args

from rnu.errors import PurposeRequired

AnalystPurpose = Literal[
    "revisar_alerta",
    "atender_reporte",
    "revisar_coincidencia",
    "atender_solicitud",
    "verificacion_campo",
]
ANALYST_PURPOSES: tuple[str, ...] = get_args(AnalystPurpose)


def analyst_purpose(raw: str | None) -> str:
    """The purpose code chosen, or PurposeRequired when it is missing or unknown."""
    purpose = (raw or "").strip().lower()
    if purpose not in ANALYST_PURPOSES:
        raise PurposeRequired("choose the purpose: " + ", ".join(ANALYST_PURPOSES))
    return purpose
