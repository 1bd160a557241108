"""Errors the domain raises on purpose; each medium (JSON, HTML, GraphQL) renders them once.

RnuError
 ├── NotFound            the thing asked for does not exist (or may not be revealed)
 │    ├── NotVisible     the caller may not see this record: rendered exactly as NotFound
 │    └── NoRuleInForce  the program had no rule for that period (it did not exist yet)
 ├── Conflict            the change contradicts current state (duplicate, stale)
 ├── InvalidInput        well-formed but unacceptable data
 │    ├── InvalidPeriod  text that is not a period YYYY-MM or YYYY
 │    └── PurposeRequired  a person's data asked for without a declared purpose
 ├── Forbidden           the caller may not do this
 ├── RateLimited         too many requests; ``retry_after_s`` says when to try again
 ├── StepUpRequired      this DNI saw wrong birth dates: send it with its check character
 └── ServiceUnavailable  a configured server (PostgreSQL, Redis) cannot be reached

``NotFound`` is also a ``LookupError`` and ``InvalidInput`` a ``ValueError``, so code written
against the built-ins keeps working while callers move to the domain names.
"""


class RnuError(Exception):
    """Base of every error RNU raises on purpose; the message is safe to show."""


class NotFound(RnuError, LookupError):
    pass


class NotVisible(NotFound):
    """The caller may not see this record at all.

    Render it exactly like "not found": saying "forbidden" would confirm the person exists.
    """


class NoRuleInForce(NotFound):
    """A program's rules have no version in force in the period asked for."""


class Conflict(RnuError):
    pass


class InvalidInput(RnuError, ValueError):
    pass


class InvalidPeriod(InvalidInput):
    pass


class PurposeRequired(InvalidInput):
    """Staff asked to open a person's data without one of the purposes they must choose from
    (``rnu.audit.purposes``); nothing is shown or audited."""


class Forbidden(RnuError):
    pass


class RateLimited(RnuError):
    """Too many requests from this client, or this DNI is locked for a while."""

    def __init__(self, retry_after_s: int, message: str = "too many requests") -> None:
        super().__init__(message)
        self.retry_after_s = max(1, int(retry_after_s))

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


class StepUpRequired(RnuError):
    """The plain lane of this DNI is closed: ask for the DNI with its check character (428).

    The same answer for a DNI that exists and one that does not (``api.lookup_guard``).
    """

    def __init__(self, message: str = "send the DNI with its check character") -> None:
        super().__init__(message)

    @property
    def headers(self) -> dict[str, str]:
        return {"Cache-Control": "no-store"}


class ServiceUnavailable(RnuError):
    pass
