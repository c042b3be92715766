"""Which IP addresses outbound requests may reach: only globally routable ones.

``ipaddress``'s ``is_global`` alone is not enough (before Python 3.13 it calls
IPv4-mapped and 6to4 forms of loopback global, and it knows nothing of cloud
metadata services), so each range is named and checked explicitly.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

IPAddress = IPv4Address | IPv6Address

# Cloud instance metadata and credential endpoints (AWS EC2/ECS/EKS, GCP, Azure,
# Oracle, Alibaba): refused even when an allow-list entry would cover them.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ip_address(text)
    for text in (
        "169.254.169.254",
        "169.254.170.2",
        "169.254.170.23",
        "100.100.100.200",
        "fd00:ec2::254",
        "fd00:ec2::23",
    )
)

_NAMED_NETWORKS: tuple[tuple[str, IPv4Network | IPv6Network], ...] = (
    ("'this network' (0.0.0.0/8)", ip_network("0.0.0.0/8")),
    ("CGNAT shared address space (100.64.0.0/10)", ip_network("100.64.0.0/10")),
    ("IETF protocol assignments (192.0.0.0/24)", ip_network("192.0.0.0/24")),
    ("benchmarking (198.18.0.0/15)", ip_network("198.18.0.0/15")),
    ("documentation (192.0.2.0/24)", ip_network("192.0.2.0/24")),
    ("documentation (198.51.100.0/24)", ip_network("198.51.100.0/24")),
    ("documentation (203.0.113.0/24)", ip_network("203.0.113.0/24")),
    ("documentation (2001:db8::/32)", ip_network("2001:db8::/32")),
    ("IPv4-compatible IPv6 (::/96)", ip_network("::/96")),
    ("local-use NAT64 (64:ff9b:1::/48)", ip_network("64:ff9b:1::/48")),
    ("Teredo (2001::/32)", ip_network("2001::/32")),
    ("unique-local (fc00::/7)", ip_network("fc00::/7")),
)

_SPECIFIC_PROPERTIES: tuple[tuple[str, str], ...] = (
    ("unspecified", "is_unspecified"),
    ("loopback", "is_loopback"),
    ("link-local", "is_link_local"),
    ("multicast", "is_multicast"),
)
_BROAD_PROPERTIES: tuple[tuple[str, str], ...] = (
    ("reserved", "is_reserved"),
    ("private", "is_private"),
    ("site-local", "is_site_local"),
)

_NAT64_WELL_KNOWN = ip_network("64:ff9b::/96")


def is_forbidden_address(ip: IPAddress) -> str | None:
    """Why ``ip`` may not be reached (a short reason), or None for a global address.

    IPv6 forms that embed an IPv4 address (IPv4-mapped ``::ffff:0:0/96``, 6to4
    ``2002::/16``, NAT64 ``64:ff9b::/96``) are judged by the embedded address.
    """
    if ip in METADATA_ADDRESSES:
        return "cloud metadata service"
    embedded = embedded_ipv4(ip)
    if embedded is not None:
        reason = is_forbidden_address(embedded)
        return None if reason is None else f"{reason}, embedded as {embedded}"
    return _plain_reason(ip)


def is_metadata_address(ip: IPAddress) -> bool:
    """True for a cloud metadata address, also in IPv4-mapped, 6to4 or NAT64 form."""
    return ip in METADATA_ADDRESSES or embedded_ipv4(ip) in METADATA_ADDRESSES


def embedded_ipv4(ip: IPAddress) -> IPv4Address | None:
    """The IPv4 address an IPv4-mapped, 6to4 or well-known NAT64 address stands for."""
    if isinstance(ip, IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64_WELL_KNOWN:
        return IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _plain_reason(ip: IPAddress) -> str | None:
    """Specific properties first (``::1`` reads "loopback"), then named ranges, then broad ones."""
    named = next((r for r, net in _NAMED_NETWORKS if ip.version == net.version and ip in net), None)
    reason = _first_property(ip, _SPECIFIC_PROPERTIES) or named
    reason = reason or _first_property(ip, _BROAD_PROPERTIES)
    return reason or (None if ip.is_global else "not globally routable")


def _first_property(ip: IPAddress, checks: tuple[tuple[str, str], ...]) -> str | None:
    return next((reason for reason, attribute in checks if getattr(ip, attribute, False)), None)
