"""Errors the domain raises on purpose.

RnuError
 ├── NotFound          the thing asked for does not exist (or may not be revealed)
 ├── Conflict          the change contradicts current state (duplicate, stale)
 ├── InvalidInput      well-formed but unacceptable data
 ├── Forbidden         the caller may not do this
 └── ServiceUnavailable a configured server (PostgreSQL, Redis) cannot be reached
"""


class RnuError(Exception):
    """Base of every error RNU raises on purpose; the message is safe to show."""


class NotFound(RnuError):
    pass


class Conflict(RnuError):
    pass


class InvalidInput(RnuError):
    pass


class Forbidden(RnuError):
    pass


class ServiceUnavailable(RnuError):
    pass
