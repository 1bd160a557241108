"""Which staff passwords are refused: too short, common (a shipped breach list), or trivial.

The outside probe had an admin account accepted with ``123456789012``: twelve characters, the
only rule there was. Length alone does not make a password hard to guess; what attackers try
first are the passwords everybody uses and their obvious variations. So a new password is
refused when it is

* shorter than ``MIN_PASSWORD_LENGTH``;
* on the common-password list shipped in ``rnu/staff/data`` (19,640 passwords from breach
  corpora, see its README), compared case-insensitively — also when it is such a password, or
  one of a few local words (``midis``, ``contraseña``…), padded with digits or symbols
  (``iloveyou2026!``);
* all digits (a date, a phone or a DNI number), one repeated character, a run of fewer than
  five different characters (``abababababab``), an ascending or descending sequence
  (``abcdefghijkl``, ``987654321098``) or a keyboard row (``qwertyuiop12``);
* or contains the username.

The messages are English: they reach operators at ``rnu users add`` / ``password``, the only
places a password is set (no web or API route sets one).
"""

from __future__ import annotations

import gzip
import re
import unicodedata
from functools import lru_cache
from importlib.resources import files

from rnu.errors import InvalidInput

MIN_PASSWORD_LENGTH = 12
MIN_DISTINCT = 5

# Words an attacker tries first against a Peruvian social-programme registry's staff.
LOCAL_WORDS = frozenset(
    {
        "contrasena",
        "contraseña",
        "clave",
        "password",
        "peru",
        "lima",
        "midis",
        "sisfoh",
        "rnu",
        "admin",
        "administrador",
        "analista",
        "supervisor",
        "bienvenido",
        "juntos",
        "pension65",
        "qaliwarma",
    }
)
# The rows read left to right, top to bottom, and the columns ("1qaz2wsx…").
_KEYBOARD = ("1234567890qwertyuiopasdfghjklzxcvbnm", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p")
_PADDING = re.compile(r"^[\d\W_]*(.*?)[\d\W_]*$", re.DOTALL)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list, read once per process (about 20,000 short strings)."""
    data = files("rnu.staff").joinpath("data/common-passwords.txt.gz").read_bytes()
    return frozenset(line.strip() for line in gzip.decompress(data).decode().splitlines() if line)


def _is_sequence(text: str) -> bool:
    """Every step is +1 or every step is -1 (in code points): ``abcd…``, ``4321…``."""
    steps = {ord(b) - ord(a) for a, b in zip(text, text[1:], strict=False)}
    return steps in ({1}, {-1})


def _on_keyboard(text: str) -> bool:
    return any(text in keys * 2 or text in keys[::-1] * 2 for keys in _KEYBOARD)


def weakness(password: str, *, username: str = "") -> str | None:
    """Why this password is refused (an English sentence), or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password must have at least {MIN_PASSWORD_LENGTH} characters"
    folded = unicodedata.normalize("NFC", password).casefold()
    common = common_passwords()
    if folded in common:
        return "this password is on the list of common passwords; choose another"
    core = _PADDING.match(folded)
    base = core.group(1) if core else folded
    if base and (base in common or base in LOCAL_WORDS):
        return "this password is a common password with digits or symbols added; choose another"
    if folded.isdigit():
        return "the password cannot be only digits (dates, phone or DNI numbers are guessed first)"
    if len(set(folded)) < MIN_DISTINCT:
        return f"the password needs at least {MIN_DISTINCT} different characters"
    if _is_sequence(folded) or _on_keyboard(folded):
        return "the password cannot be a sequence or a keyboard row"
    name = username.strip().casefold()
    if len(name) >= 3 and name in folded:
        return "the password cannot contain the username"
    return None


def check_password(password: str, *, username: str = "") -> None:
    """Raise InvalidInput when ``weakness`` finds a reason to refuse the password."""
    reason = weakness(password, username=username)
    if reason is not None:
        raise InvalidInput(reason)
