"""Where RNU may POST an agency's callbacks (death notices, ``on-search`` answers), and how.

A callback URL is chosen by the agency, so without checks it is a way to make RNU's servers
send requests inside RNU's own network (blind SSRF): ``http://127.0.0.1``, ``0x7f000001``,
``[::1]``, the cloud metadata address ``169.254.169.254``, private ranges, compose service
names such as ``https://redis:6379/``. The rules, checked when the agency subscribes *and*
again at every delivery (DNS can change between the two):

* ``https`` only (plain ``http`` only outside production), no user:password, a real host name
  or a global IP address: single-label names (``redis``, ``localhost``) and the ``.local``,
  ``.internal``, ``.localhost``, ``.lan`` and ``.home.arpa`` suffixes are internal names;
* every address the name resolves to must be a global unicast address (``ipaddress``'s
  ``is_global``: not loopback, private, link-local, CGNAT, reserved, multicast; an IPv4-mapped
  IPv6 address is judged by its IPv4 address);
* in production the host must be on an allow-list (``RNU_WEBHOOK_HOSTS``);
* at delivery the connection goes to the address that was checked (``pinned``), with the
  original host in ``Host`` and in TLS SNI / certificate verification, so a second DNS answer
  cannot swap in an internal address (DNS rebinding).

``allow_private`` lifts only the address rule, for tests and for a closed network whose
receivers live on private addresses; production deployments should leave it off.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from rnu.errors import InvalidInput

MAX_URL = 500
INTERNAL_SUFFIXES = (".local", ".internal", ".localhost", ".lan", ".home.arpa", ".localdomain")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class WebhookPolicy:
    """What a deployment allows as callback targets (from ``Settings``)."""

    allow_plain_http: bool = False
    allow_private: bool = False
    # Exact host names, or ".suffix" for a domain and its subdomains; empty: any public host.
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)
    require_allow_list: bool = False  # production: an empty list allows nothing

    @classmethod
    def from_settings(cls, *, environment: str, hosts: str, allow_private: bool) -> WebhookPolicy:
        production = environment == "production"
        return cls(
            allow_plain_http=not production,
            allow_private=allow_private,
            allowed_hosts=frozenset(h.strip().lower() for h in hosts.split(",") if h.strip()),
            require_allow_list=production,
        )


@dataclass(frozen=True)
class Target:
    """A checked callback: the URL as given, its host, and the address to connect to."""

    url: str
    host: str
    port: int
    address: str
    scheme: str

    @property
    def pinned_url(self) -> str:
        """The URL with the checked address in place of the host name."""
        parts = urlsplit(self.url)
        literal = f"[{self.address}]" if ":" in self.address else self.address
        netloc = f"{literal}:{self.port}"
        path = parts.path or "/"
        return f"{self.scheme}://{netloc}{path}" + (f"?{parts.query}" if parts.query else "")

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        return self.host if self.port == default else f"{self.host}:{self.port}"


def _refuse(reason: str) -> InvalidInput:
    return InvalidInput(f"callback_url refused: {reason}")


def check_syntax(url: str, policy: WebhookPolicy) -> tuple[str, str, int, str]:
    """(url, host, port, scheme) of a well-formed callback URL, or InvalidInput."""
    url = url.strip()
    if not url or len(url) > MAX_URL or any(c.isspace() for c in url):
        raise _refuse(f"an http(s) URL of at most {MAX_URL} characters is required")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _refuse("the URL cannot be parsed") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise _refuse("the scheme must be https")
    if scheme == "http" and not policy.allow_plain_http:
        raise _refuse("the scheme must be https")
    if parts.username is not None or parts.password is not None:
        raise _refuse("credentials in the URL are not allowed")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise _refuse("the URL has no host")
    _check_host_name(host, policy)
    return url, host, port or (443 if scheme == "https" else 80), scheme


def _literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _check_host_name(host: str, policy: WebhookPolicy) -> None:
    if policy.allowed_hosts or policy.require_allow_list:
        allowed = host in policy.allowed_hosts or any(
            s.startswith(".") and (host.endswith(s) or host == s[1:]) for s in policy.allowed_hosts
        )
        if not allowed:
            raise _refuse(f"host {host} is not on RNU's list of allowed callback hosts")
    if _literal_address(host) is not None:
        return  # judged by its address below
    if policy.allow_private:
        return
    if "." not in host or host.endswith(INTERNAL_SUFFIXES):
        raise _refuse(f"{host} is an internal host name")
    if host.replace(".", "").isdigit() or host.startswith("0x"):
        # 127.1, 2130706433, 0x7f000001: resolvers read these as IPv4 addresses
        raise _refuse(f"{host} is a numeric address in a non-standard form")


def check_address(address: IPAddress, policy: WebhookPolicy) -> None:
    """InvalidInput unless this is an address RNU may send callbacks to."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if policy.allow_private:
        if address.is_multicast or address.is_unspecified:
            raise _refuse(f"{address} is not a unicast address")
        return
    if not address.is_global or address.is_multicast:
        raise _refuse(f"{address} is not a public address")


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (TCP), in the resolver's order."""
    literal = _literal_address(host)
    if literal is not None:
        return [literal]
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise _refuse(f"{host} does not resolve") from exc
    seen: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in seen:
            seen.append(address)
    if not seen:
        raise _refuse(f"{host} does not resolve")
    return seen


async def check(url: str, policy: WebhookPolicy) -> Target:
    """The checked target of a callback URL: syntax, host name, then every resolved address."""
    url, host, port, scheme = check_syntax(url, policy)
    addresses = await resolve(host, port)
    for address in addresses:
        check_address(address, policy)
    return Target(url=url, host=host, port=port, address=str(addresses[0]), scheme=scheme)
