"""Which URLs may be fetched: syntax, the operator's allow list, and DNS resolution.

Every address a host resolves to must be allowed (all, not any): the HTTP
client then connects only to those checked addresses, so a second lookup
cannot rebind the name to a private address.
"""

from __future__ import annotations

import logging
import re
import socket
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from urllib.parse import SplitResult, urlsplit

from dsac_asr.egress.addresses import IPAddress, is_forbidden_address, is_metadata_address
from dsac_asr.egress.errors import EgressRefusedError, UnresolvableHostError
from dsac_asr.errors import InvalidOptionError, TransientError

log = logging.getLogger(__name__)

MAX_URL_CHARS = 4096
_HOST_RE = re.compile(r"^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_-]{1,63})*$")


@dataclass(frozen=True)
class EgressPolicy:
    """The operator's exceptions (``DSAC_EGRESS_ALLOW``): hosts or CIDRs that may be private.

    A host entry matches the URL's host name exactly (case-insensitive) and
    allows whatever it resolves to; a CIDR (or bare address) entry allows the
    addresses inside it. Cloud metadata addresses stay refused regardless.
    """

    allow: tuple[str, ...] = ()
    _hosts: frozenset[str] = field(init=False, repr=False, compare=False)
    _networks: tuple[IPv4Network | IPv6Network, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        networks = tuple(_as_network(entry) for entry in self.allow)
        hosts = (normalize_host(e) for e, n in zip(self.allow, networks, strict=True) if n is None)
        object.__setattr__(self, "_hosts", frozenset(hosts))
        object.__setattr__(self, "_networks", tuple(n for n in networks if n is not None))

    @classmethod
    def parse(cls, text: str | None) -> EgressPolicy:
        """Build a policy from a comma-separated list; ``InvalidOptionError`` on a bad entry."""
        entries = tuple(entry.strip() for entry in (text or "").split(",") if entry.strip())
        for entry in entries:
            if _as_network(entry) is None and not _HOST_RE.match(normalize_host(entry)):
                raise InvalidOptionError(f"egress allow entry {entry!r} is not a host or CIDR")
        return cls(entries)

    def allows_host(self, host: str) -> bool:
        """True when ``host`` is listed by name."""
        return normalize_host(host) in self._hosts

    def allows_address(self, ip: IPAddress) -> bool:
        """True when ``ip`` lies inside a listed CIDR."""
        return any(ip.version == net.version and ip in net for net in self._networks)


def normalize_host(host: str) -> str:
    """Lower-case, without IPv6 brackets or a trailing dot."""
    return host.strip().strip("[]").rstrip(".").lower()


def _as_network(entry: str) -> IPv4Network | IPv6Network | None:
    try:
        return ip_network(entry.strip(), strict=False)
    except ValueError:
        return None


def check_url_syntax(url: str) -> SplitResult:
    """Split ``url``; refuse anything but ``http(s)://host[:port]/...`` without credentials."""
    if len(url) > MAX_URL_CHARS:
        raise EgressRefusedError(f"the URL is longer than {MAX_URL_CHARS} characters")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        raise EgressRefusedError(f"only http and https URLs are allowed, not {parts.scheme!r}")
    if "@" in parts.netloc:
        raise EgressRefusedError("URLs with credentials (user:password@host) are not allowed")
    if not parts.hostname:
        raise EgressRefusedError(f"the URL {url!r} names no host")
    url_port(parts)
    return parts


def redacted(url: str) -> str:
    """``url`` without its query and credentials, for messages (presigned URLs carry secrets)."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return f"{parts.scheme}://{host}{parts.path}" + ("?..." if parts.query else "")


def url_port(parts: SplitResult) -> int:
    """The URL's port (default 80 or 443); refuse one outside 1-65535."""
    try:
        port = parts.port
    except ValueError as exc:
        raise EgressRefusedError(f"the URL's port is not valid: {exc}") from exc
    if port is None:
        return 443 if parts.scheme == "https" else 80
    if not 1 <= port <= 65535:
        raise EgressRefusedError(f"the URL's port {port} is outside 1-65535")
    return port


def resolve_allowed(host: str, port: int, policy: EgressPolicy) -> list[IPAddress]:
    """Resolve ``host`` once; return its addresses if every one of them may be reached."""
    name = normalize_host(host)
    addresses = _resolve(name, port)
    by_name = policy.allows_host(name)
    for ip in addresses:
        _check_address(name, ip, policy, by_name)
    return addresses


def _check_address(name: str, ip: IPAddress, policy: EgressPolicy, by_name: bool) -> None:
    """Refuse ``ip``: the message names the host and the kind of address, never the
    address itself (``detail``, for the operator's log, does)."""
    if is_metadata_address(ip):
        raise _refused(name, ip, "cloud metadata service")
    if by_name or policy.allows_address(ip):
        return
    reason = is_forbidden_address(ip)
    if reason is not None:
        raise _refused(name, ip, reason)


def _refused(name: str, ip: IPAddress, reason: str) -> EgressRefusedError:
    kind = reason.split(",", 1)[0]  # "..., embedded as <address>" names an address
    detail = f"{name} resolves to {ip} ({reason})"
    log.info("egress refused: %s", detail)
    return EgressRefusedError(f"{name}: address not allowed ({kind})", detail)


def _resolve(name: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        if exc.errno == socket.EAI_AGAIN:
            raise TransientError(f"looking up {name} failed for now: {exc}") from exc
        raise UnresolvableHostError(f"the host {name} cannot be resolved: {exc}") from exc
    except UnicodeError as exc:
        raise EgressRefusedError(f"the host name {name!r} is not valid") from exc
    families = (socket.AF_INET, socket.AF_INET6)
    found = [ip_address(info[4][0]) for info in infos if info[0] in families]
    if not found:
        raise UnresolvableHostError(f"the host {name} has no IPv4 or IPv6 address")
    return list(dict.fromkeys(found))


def check_url(url: str, policy: EgressPolicy) -> list[IPAddress]:
    """Check ``url`` as submitted (syntax, then every resolved address); return the addresses."""
    parts = check_url_syntax(url)
    return resolve_allowed(parts.hostname or "", url_port(parts), policy)
