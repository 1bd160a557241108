"""How uvicorn must serve RNU, in one place for ``rnu serve``, the Dockerfile and compose.

uvicorn has a parser of forwarded headers of its own (``proxy_headers``, on by default, trusting
127.0.0.1 or ``FORWARDED_ALLOW_IPS``): it rewrites the peer address from ``X-Forwarded-For``
*before* the app sees the request, so every client behind a local proxy (or any client when the
operator widened the trust) could pick its own rate-limit key by sending the header. RNU keeps
exactly one parser, ``api.ratelimit.client_address`` with ``RNU_TRUSTED_PROXIES``; uvicorn's is
turned off everywhere, and ``tests/api/test_forwarded_headers.py`` checks every entry point.

uvicorn's own logging configuration is skipped too (``log_config=None``): the app routes the
``uvicorn`` loggers through its scrubbing handler (``api.observability.configure_logging``).
"""

from __future__ import annotations

from typing import Final, TypedDict


class UvicornOptions(TypedDict):
    """Keyword arguments for ``uvicorn.run`` / ``uvicorn.Config`` (typed, so mypy checks them)."""

    proxy_headers: bool
    server_header: bool
    access_log: bool
    log_config: None


UVICORN_OPTIONS: Final[UvicornOptions] = {
    "proxy_headers": False,
    "server_header": False,  # no version banner for scanners
    "access_log": False,  # URLs may carry search terms; the app logs route templates itself
    "log_config": None,
}

# The same choices as command-line flags, for ``uvicorn web.app:create_app --factory …``.
UVICORN_FLAGS: Final = ("--no-proxy-headers", "--no-server-header", "--no-access-log")
