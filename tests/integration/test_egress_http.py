"""The egress-checked HTTP client against real HTTP(S) servers on loopback."""

from __future__ import annotations

import gzip
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from http_servers import Handler, Received, serving, stall, trickle

from dsac_asr.egress import (
    EgressPolicy,
    EgressRefusedError,
    SourceUnreachableError,
    Timeouts,
    download,
    open_stream,
)
from dsac_asr.errors import MediaTooLargeError, TransientError

pytestmark = pytest.mark.integration

LOOPBACK = EgressPolicy.parse("127.0.0.1")
QUICK = Timeouts(connect_s=2.0, read_s=2.0)
AUDIO = b"RIFF" + bytes(range(256)) * 64


def audio(handler: Handler, received: Received) -> None:
    handler.reply(200, AUDIO, {"Content-Type": "audio/wav"})


def test_download_through_allow_list(tmp_path: Path) -> None:
    with serving(audio) as server:
        size = download(server.url("/a.wav"), tmp_path / "a.wav", LOOPBACK, **_limits())
    assert size == len(AUDIO)
    assert (tmp_path / "a.wav").read_bytes() == AUDIO
    sent = server.received[0].headers
    assert sent["Accept-Encoding"] == "identity"
    assert sent["Host"] == f"127.0.0.1:{server.port}"


def _limits(max_bytes: int = 1 << 20, timeouts: Timeouts = QUICK) -> dict[str, Any]:
    return {"max_bytes": max_bytes, "timeouts": timeouts}


def test_loopback_refused_before_any_connection(tmp_path: Path) -> None:
    with serving(audio) as server:
        for url in (server.url("/a.wav"), server.url("/a.wav", host="localhost")):
            with pytest.raises(EgressRefusedError):
                download(url, tmp_path / "a.wav", EgressPolicy(), **_limits())
    assert server.connections == 0
    assert not (tmp_path / "a.wav").exists()


def test_declared_length_over_cap_is_refused(tmp_path: Path) -> None:
    with serving(audio) as server, pytest.raises(MediaTooLargeError):
        download(server.url(), tmp_path / "a.wav", LOOPBACK, **_limits(max_bytes=1000))
    assert not (tmp_path / "a.wav").exists()


def endless(handler: Handler, received: Received) -> None:
    handler.send_response(200)
    handler.send_header("Connection", "close")
    handler.end_headers()
    while not handler.server.owner.stop.is_set():
        try:
            handler.wfile.write(b"\0" * 65536)
        except OSError:
            return


def test_endless_body_stops_just_past_cap(tmp_path: Path) -> None:
    cap, kept = 300_000, 0
    with serving(endless) as server:
        with (
            pytest.raises(MediaTooLargeError),
            open_stream("GET", server.url(), LOOPBACK, timeouts=QUICK, max_bytes=cap) as response,
        ):
            for chunk in response.iter_bytes():
                kept += len(chunk)
        with pytest.raises(MediaTooLargeError):
            download(server.url(), tmp_path / "a.wav", LOOPBACK, **_limits(max_bytes=cap))
    assert cap - 65536 < kept <= cap
    assert not (tmp_path / "a.wav").exists()


def test_encoded_body_is_not_decompressed(tmp_path: Path) -> None:
    packed = gzip.compress(b"\0" * 5_000_000)

    def gzipped(handler: Handler, received: Received) -> None:
        handler.reply(200, packed, {"Content-Encoding": "gzip"})

    with serving(gzipped) as server:
        size = download(server.url(), tmp_path / "a.gz", LOOPBACK, **_limits(max_bytes=100_000))
    assert size == len(packed)
    assert (tmp_path / "a.gz").read_bytes() == packed


def hops(handler: Handler, received: Received) -> None:
    left = int(received.path.rsplit("/", 1)[-1])
    if left == 0:
        handler.reply(200, AUDIO)
    else:
        handler.reply(302, headers={"Location": f"/hop/{left - 1}"})


def test_five_redirects_are_followed(tmp_path: Path) -> None:
    with serving(hops) as server:
        assert download(server.url("/hop/5"), tmp_path / "a", LOOPBACK, **_limits()) > 0
    assert [r.path for r in server.received] == [f"/hop/{n}" for n in range(5, -1, -1)]


def test_sixth_redirect_fails(tmp_path: Path) -> None:
    with serving(hops) as server, pytest.raises(SourceUnreachableError, match="more than 5"):
        download(server.url("/hop/6"), tmp_path / "a", LOOPBACK, **_limits())
    assert len(server.received) == 6


def test_redirect_to_refused_address_is_refused(tmp_path: Path) -> None:
    with serving(audio) as inner:

        def outward(handler: Handler, received: Received) -> None:
            handler.reply(307, headers={"Location": inner.url("/secret")})

        with serving(outward, host="127.0.0.2") as outer, pytest.raises(EgressRefusedError):
            download(outer.url(), tmp_path / "a", EgressPolicy.parse("127.0.0.2/32"), **_limits())
    assert len(outer.received) == 1
    assert inner.connections == 0


def test_error_status_is_source_unreachable(tmp_path: Path) -> None:
    def missing(handler: Handler, received: Received) -> None:
        handler.reply(404, b"not here")

    with serving(missing) as server, pytest.raises(SourceUnreachableError, match="404") as caught:
        download(server.url("/a.wav?X-Amz-Signature=s3cr3t"), tmp_path / "a", LOOPBACK, **_limits())
    assert "s3cr3t" not in caught.value.message


def test_dns_rebinding_cannot_redirect_the_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real, lookups = socket.getaddrinfo, []

    def rebinding(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "rebind.test":
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        answer = "127.0.0.1" if len(lookups) == 1 else "127.0.0.3"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with serving(audio) as good, serving(audio, host="127.0.0.3", port=good.port) as secret:
        url = good.url("/a.wav", host="rebind.test")
        assert download(url, tmp_path / "a", LOOPBACK, **_limits()) == len(AUDIO)
    assert lookups == ["rebind.test"]
    assert good.received[0].headers["Host"] == f"rebind.test:{good.port}"
    assert secret.connections == 0


def test_silent_server_times_out_as_transient(tmp_path: Path) -> None:
    with serving(stall) as server:
        started = time.monotonic()
        with pytest.raises(TransientError, match="timed out"):
            download(server.url(), tmp_path / "a", LOOPBACK, **_limits(timeouts=_short()))
    assert time.monotonic() - started < 0.5 + 1.0


def _short(total_s: float | None = None) -> Timeouts:
    return Timeouts(connect_s=0.5, read_s=0.5, total_s=total_s)


def test_trickling_server_is_cut_at_the_deadline(tmp_path: Path) -> None:
    def drip(handler: Handler, received: Received) -> None:
        trickle(handler)

    with serving(drip) as server:
        started = time.monotonic()
        with pytest.raises(TransientError):
            download(server.url(), tmp_path / "a", LOOPBACK, **_limits(timeouts=_short(1.0)))
    assert time.monotonic() - started < 1.0 + 1.0


def test_closed_port_is_transient(tmp_path: Path) -> None:
    with serving(audio) as server:
        url = server.url()
    with pytest.raises(TransientError):
        download(url, tmp_path / "a", LOOPBACK, **_limits())


@pytest.fixture
def media_test_dns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``media.test`` resolves to 127.0.0.1; returns the names looked up."""
    real, lookups = socket.getaddrinfo, []

    def resolve(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "media.test":
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return lookups


def _tls_server_names(cert_host: str, tmp_path: Path) -> tuple[Any, Any, list[str]]:
    tls_certs = pytest.importorskip("tls_certs")
    ca = tls_certs.new_ca()
    server_context, names = ca.server_context(cert_host, tmp_path), []
    server_context.sni_callback = lambda sock, name, context: names.append(name)
    return ca, server_context, names


def test_tls_verifies_the_host_name_while_connecting_to_the_checked_ip(
    tmp_path: Path, media_test_dns: list[str]
) -> None:
    ca, server_context, names = _tls_server_names("media.test", tmp_path)
    with serving(audio) as server:
        server.use_tls(server_context)
        url, target = server.url("/a.wav", host="media.test"), tmp_path / "a.wav"
        size = download(url, target, LOOPBACK, **_limits(), ssl_context=ca.client_context())
    assert size == len(AUDIO)
    assert names == ["media.test"]
    assert media_test_dns == ["media.test"]


def test_tls_certificate_for_another_name_is_refused(
    tmp_path: Path, media_test_dns: list[str]
) -> None:
    ca, server_context, _ = _tls_server_names("other.test", tmp_path)
    with serving(audio) as server:
        server.use_tls(server_context)
        url, context = server.url("/a.wav", host="media.test"), ca.client_context()
        with pytest.raises(SourceUnreachableError, match="certificate"):
            download(url, tmp_path / "a.wav", LOOPBACK, **_limits(), ssl_context=context)
    assert server.received == []


def test_tls_untrusted_ca_is_refused(tmp_path: Path, media_test_dns: list[str]) -> None:
    _, server_context, _ = _tls_server_names("media.test", tmp_path)
    with serving(audio) as server:
        server.use_tls(server_context)
        with pytest.raises(SourceUnreachableError, match="certificate"):
            download(server.url(host="media.test"), tmp_path / "a", LOOPBACK, **_limits())
