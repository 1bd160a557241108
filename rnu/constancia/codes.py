"""Verification codes of constancias: 'CON-7K3M-Q9TX-2PA5', 60 random bits from ``secrets``.

Random, not derived from the person or the time, so a code says nothing about whom it
certifies and cannot be guessed: at the ``/verificar`` rate limit a client trying codes
would need millions of years to hit one of millions issued.
"""

from __future__ import annotations

import secrets

PREFIX = "CON"
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
RANDOM_CHARS = 12  # 60 bits
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_CHARS))
    return f"{PREFIX}-{body[0:4]}-{body[4:8]}-{body[8:12]}"


def normalize(raw: str) -> str | None:
    """A typed code in canonical form (case, spaces, dashes, O/0 and I/L/1 forgiven), or None."""
    cleaned = "".join(ch for ch in raw.upper() if ch.isalnum())
    if cleaned.startswith(PREFIX) and len(cleaned) == len(PREFIX) + RANDOM_CHARS:
        cleaned = cleaned[len(PREFIX) :]
    cleaned = cleaned.translate(_LOOKALIKES)
    if len(cleaned) != RANDOM_CHARS or any(ch not in ALPHABET for ch in cleaned):
        return None
    return f"{PREFIX}-{cleaned[0:4]}-{cleaned[4:8]}-{cleaned[8:12]}"
