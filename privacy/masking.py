"""Small deterministic masks and keyed identifiers, one function per field.

Why two endpoints cannot be combined to unmask someone: every endpoint (REST, GraphQL, web)
masks a field through the one function here, so each reveals the *same* part of it (the last
three DNI digits, the first given name and surname initials); the union of all views is never
more than one view. Identifiers are keyed HMAC-SHA256 under the server secret with a distinct
label per purpose, so a public ``entry_id`` cannot be matched to the ``dni_hmac`` in audit rows
or cache keys, and neither can be rebuilt by hashing the 10^8 possible DNIs without the secret.
"""

from __future__ import annotations

import base64

# The keyed functions live in rnu.hashing so domain services (audit rows) derive the very same
# HMACs; re-exported here so every edge keeps importing its masks from one module.
from rnu.hashing import ENTRY_LABEL as _ENTRY_LABEL
from rnu.hashing import dni_hmac
from rnu.hashing import keyed as _keyed

# 16 url-safe characters = 96 bits: short enough for a URL, far beyond collision risk at
# tens of millions of enrollments.
ENTRY_ID_LENGTH = 16

_SURNAME_MASK = "***"


def mask_dni(dni: str) -> str:
    """Keep the last three digits: '*****678'. Leading zeros are part of the DNI.

    Anything of three characters or fewer is masked whole: showing its "last three" would show
    all of it.
    """
    dni = dni.strip()
    if len(dni) <= 3:
        return "*" * len(dni)
    return "*" * (len(dni) - 3) + dni[-3:]


def _words(text: str | None) -> list[str]:
    return (text or "").upper().split()


def initials(name: str | None) -> str:
    """'Juan Carlos' -> 'J. C.'; empty or missing -> ''."""
    return " ".join(f"{word[0]}." for word in _words(name))


def mask_surname(surname: str | None) -> str:
    """'QUISPE' -> 'Q***'; the fixed tail hides the surname's length too."""
    words = _words(surname)
    return f"{words[0][0]}{_SURNAME_MASK}" if words else ""


def mask_name(nombres: str | None, paterno: str | None, materno: str | None) -> str:
    """'JUAN CARLOS', 'QUISPE', 'MAMANI' -> 'JUAN C. Q*** M***'.

    A neighbour recognises the first given name with the surname initials within a district and
    program, but the string is no search key: thousands of people share each one nationally.
    """
    given = _words(nombres)
    parts: list[str] = []
    if given:
        parts.append(given[0])
        parts.extend(f"{word[0]}." for word in given[1:])
    parts.extend(m for m in (mask_surname(paterno), mask_surname(materno)) if m)
    return " ".join(parts)


def entry_id(secret: bytes, enrollment_key: str) -> str:
    """Opaque, stable, url-safe id for one roll entry (16 characters).

    Stable so the same entry has the same id in every endpoint and period it is fetched;
    opaque so it carries no DNI, name or internal key.
    """
    digest = _keyed(secret, _ENTRY_LABEL, enrollment_key)
    return base64.urlsafe_b64encode(digest).decode("ascii")[:ENTRY_ID_LENGTH]


__all__ = ["dni_hmac", "entry_id", "initials", "mask_dni", "mask_name", "mask_surname"]
