"""The egress policy: forbidden address ranges, URL syntax, allow list, resolution."""

from __future__ import annotations

import socket
from collections.abc import Callable
from ipaddress import ip_address
from typing import Any

import pytest

from dsac_asr.egress import (
    EgressPolicy,
    EgressRefusedError,
    UnresolvableHostError,
    check_url,
    check_url_syntax,
    is_forbidden_address,
    resolve_allowed,
)
from dsac_asr.errors import InputError, InvalidOptionError, TransientError

FORBIDDEN = [
    ("127.0.0.1", "loopback"),
    ("127.255.0.9", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.254", "private"),
    ("192.168.1.1", "private"),
    ("169.254.1.1", "link-local"),
    ("169.254.169.254", "metadata"),
    ("169.254.170.2", "metadata"),
    ("100.64.0.1", "CGNAT"),
    ("100.127.255.254", "CGNAT"),
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "this network"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("192.0.2.10", "documentation"),
    ("198.18.0.1", "benchmarking"),
    ("::", "unspecified"),
    ("::1", "loopback"),
    ("::ffff:127.0.0.1", "loopback, embedded as 127.0.0.1"),
    ("::ffff:10.0.0.1", "private, embedded"),
    ("::ffff:169.254.169.254", "metadata"),
    ("64:ff9b::a9fe:a9fe", "metadata service, embedded as 169.254.169.254"),
    ("64:ff9b::7f00:1", "loopback, embedded"),
    ("64:ff9b:1::1", "local-use NAT64"),
    ("2002:7f00:0001::", "loopback, embedded as 127.0.0.1"),
    ("2002:c0a8:0101::1", "private, embedded as 192.168.1.1"),
    ("::7f00:1", "IPv4-compatible"),
    ("fd00:ec2::254", "metadata"),
    ("fd12:3456::1", "unique-local"),
    ("fc00::1", "unique-local"),
    ("fe80::1", "link-local"),
    ("fe80::1%2", "link-local"),
    ("fec0::1", "site-local"),
    ("ff02::1", "multicast"),
    ("ff0e::1", "multicast"),
    ("2001:db8::1", "documentation"),
    ("2001::1", "Teredo"),
    ("100::1", "reserved"),
]

GLOBAL = ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]


@pytest.mark.parametrize(("text", "reason"), FORBIDDEN)
def test_forbidden_addresses_are_named(text: str, reason: str) -> None:
    assert reason in (is_forbidden_address(ip_address(text)) or "")


@pytest.mark.parametrize("text", GLOBAL)
def test_global_addresses_pass(text: str) -> None:
    assert is_forbidden_address(ip_address(text)) is None


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/a.wav",
        "file:///etc/passwd",
        "gopher://example.com/",
        "//example.com/a.wav",
        "http://user:pass@example.com/a.wav",
        "http://user@example.com/a.wav",
        "http://example.com\\@127.0.0.1/",
        "http:///a.wav",
        "http://example.com:0/",
        "http://example.com:65536/",
        "http://example.com:http/",
        "https://example.com/" + "a" * 5000,
    ],
)
def test_bad_url_syntax_is_refused(url: str) -> None:
    with pytest.raises(EgressRefusedError):
        check_url_syntax(url)


def test_good_url_syntax_passes() -> None:
    parts = check_url_syntax("HTTPS://Media.Example.com:8443/a.wav?x=1")
    assert (parts.scheme, parts.hostname, parts.port) == ("https", "media.example.com", 8443)


def test_refusals_are_input_errors_with_codes() -> None:
    assert issubclass(EgressRefusedError, InputError)
    assert EgressRefusedError.code == "egress_refused"
    assert UnresolvableHostError.code == "host_unresolvable"


def test_policy_parses_hosts_and_cidrs() -> None:
    policy = EgressPolicy.parse(" Media.Internal. , 10.0.0.0/8,127.0.0.1 ,fd00::/8,")
    assert policy.allow == ("Media.Internal.", "10.0.0.0/8", "127.0.0.1", "fd00::/8")
    assert policy.allows_host("media.internal") and policy.allows_host("MEDIA.INTERNAL")
    assert not policy.allows_host("other.internal")
    assert policy.allows_address(ip_address("10.9.9.9"))
    assert policy.allows_address(ip_address("127.0.0.1"))
    assert not policy.allows_address(ip_address("127.0.0.2"))
    assert policy.allows_address(ip_address("fd00::5"))


@pytest.mark.parametrize("text", [None, "", " , "])
def test_empty_policy_allows_nothing(text: str | None) -> None:
    policy = EgressPolicy.parse(text)
    assert policy.allow == ()
    assert not policy.allows_address(ip_address("10.0.0.1"))


@pytest.mark.parametrize("entry", ["bad host!", "10.0.0.0/33", "http://x.example"])
def test_policy_refuses_bad_entries(entry: str) -> None:
    with pytest.raises(InvalidOptionError):
        EgressPolicy.parse(entry)


FakeDns = Callable[[dict[str, list[str]]], list[str]]


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> FakeDns:
    """Answer getaddrinfo from a table; return the list of names looked up."""

    def install(table: dict[str, list[str]]) -> list[str]:
        looked_up: list[str] = []

        def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
            looked_up.append(host)
            if host not in table:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return [_info(text, port) for text in table[host]]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        return looked_up

    return install


def _info(text: str, port: int) -> tuple[Any, ...]:
    if ":" in text:
        return (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (text, port, 0, 0))
    return (socket.AF_INET, socket.SOCK_STREAM, 6, "", (text, port))


def test_public_host_resolves(fake_dns: FakeDns) -> None:
    fake_dns({"media.example": ["8.8.8.8", "2606:4700::1111", "8.8.8.8"]})
    found = resolve_allowed("Media.Example.", 443, EgressPolicy())
    assert found == [ip_address("8.8.8.8"), ip_address("2606:4700::1111")]


def test_every_address_must_be_public(fake_dns: FakeDns) -> None:
    fake_dns({"mixed.example": ["8.8.8.8", "10.0.0.5"]})
    with pytest.raises(EgressRefusedError, match="address not allowed") as caught:
        resolve_allowed("mixed.example", 80, EgressPolicy())
    assert caught.value.message == "mixed.example: address not allowed (private)"
    assert "10.0.0.5" in caught.value.detail  # for the operator's log, never the client


def test_allow_by_host_name(fake_dns: FakeDns) -> None:
    fake_dns({"media.internal": ["10.0.0.5", "fd00::5"]})
    policy = EgressPolicy.parse("MEDIA.internal")
    assert len(resolve_allowed("media.internal", 80, policy)) == 2
    with pytest.raises(EgressRefusedError):
        resolve_allowed("media.internal", 80, EgressPolicy.parse("other.internal"))


def test_allow_by_cidr(fake_dns: FakeDns) -> None:
    fake_dns({"media.internal": ["10.0.0.5", "10.0.1.5"]})
    assert resolve_allowed("media.internal", 80, EgressPolicy.parse("10.0.0.0/16"))
    with pytest.raises(EgressRefusedError) as caught:
        resolve_allowed("media.internal", 80, EgressPolicy.parse("10.0.0.0/24"))
    assert "10.0.1.5" in caught.value.detail
    assert "10.0" not in caught.value.message


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.1.2.3", "::ffff:10.1.2.3", "169.254.169.254", "64:ff9b::a9fe:a9fe"]
)
def test_a_refusal_never_tells_the_client_the_resolved_address(
    fake_dns: FakeDns, address: str
) -> None:
    fake_dns({"inside.example": [address]})
    with pytest.raises(EgressRefusedError) as caught:
        check_url("http://inside.example/a.wav", EgressPolicy())
    message = caught.value.message
    assert message.startswith("inside.example: address not allowed (")
    for revealing in (address, "10.1", "127.0", "169.254", "ffff", "ff9b"):
        assert revealing not in message
    assert str(ip_address(address)) in caught.value.detail


@pytest.mark.parametrize("allow", ["metadata.internal", "169.254.0.0/16", "0.0.0.0/0,::/0"])
@pytest.mark.parametrize("address", ["169.254.169.254", "fd00:ec2::254", "64:ff9b::a9fe:a9fe"])
def test_metadata_stays_refused_whatever_the_allow_list(
    fake_dns: FakeDns, allow: str, address: str
) -> None:
    fake_dns({"metadata.internal": [address]})
    with pytest.raises(EgressRefusedError, match="metadata"):
        resolve_allowed("metadata.internal", 80, EgressPolicy.parse(allow))


def test_unknown_host_is_unresolvable(fake_dns: FakeDns) -> None:
    fake_dns({})
    with pytest.raises(UnresolvableHostError):
        check_url("https://nowhere.example/a.wav", EgressPolicy())


def test_temporary_dns_failure_is_transient(monkeypatch: pytest.MonkeyPatch) -> None:
    def getaddrinfo(*args: Any, **kwargs: Any) -> list[Any]:
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(TransientError):
        check_url("https://media.example/a.wav", EgressPolicy())


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost/a.wav",
        "http://LOCALHOST./a.wav",
        "http://127.0.0.1:8000/a.wav",
        "http://2130706433/a.wav",
        "http://0x7f.1/a.wav",
        "http://[::1]/a.wav",
        "http://[::ffff:127.0.0.1]/a.wav",
        "http://0.0.0.0:8000/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
    ],
)
def test_local_urls_are_refused_after_real_resolution(url: str) -> None:
    with pytest.raises(EgressRefusedError):
        check_url(url, EgressPolicy())


def test_loopback_allowed_when_listed() -> None:
    assert check_url("http://127.0.0.1:8000/a.wav", EgressPolicy.parse("127.0.0.0/8"))
