"""Refusing playlists by their first bytes, and the demuxer allowlist."""

from __future__ import annotations

import pytest

from dsac_asr.audio.formats import (
    ALLOWED_DEMUXERS,
    container_options,
    forbidden_kind,
    media_kind,
    refuse_playlists,
)
from dsac_asr.errors import ForbiddenFormatError

FORBIDDEN_HEADS = {
    "hls": b"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nhttp://x/a.ts\n",
    "hls with BOM": b"\xef\xbb\xbf#EXTM3U\n#EXTINF:10,\nseg.ts\n",
    "hls after blank lines": b"\r\n  \n#EXTM3U\n",
    "m3u lower case": b"#extm3u\n",
    "bare extinf": b"#EXTINF:-1,Radio\nhttp://radio.example/stream\n",
    "hls in UTF-16": "\ufeff#EXTM3U\n#EXTINF:1,\na.ts\n".encode("utf-16-le"),
    "ffconcat": b"ffconcat version 1.0\nfile '/etc/passwd'\n",
    "pls": b"[playlist]\nFile1=http://radio.example/stream\nNumberOfEntries=1\n",
    "asf reference": b"[Reference]\r\nRef1=http://media.example/a.asf\r\n",
    "asx": b'<ASX version="3.0"><Entry><Ref href="http://x/a.wma"/></Entry></ASX>',
    "asx in xml": b'<?xml version="1.0"?>\n<asx version="3.0"></asx>',
    "smil": b'<?xml version="1.0"?>\n<smil><body><audio src="a.wav"/></body></smil>',
    "wpl": b'<?wpl version="1.0"?><smil><body><seq><media src="a.mp3"/></seq></body></smil>',
    "xspf": b'<?xml version="1.0"?><playlist xmlns="http://xspf.org/ns/0/"></playlist>',
    "dash": b'<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011"></MPD>',
    "sdp": b"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\nm=audio 5004 RTP/AVP 0\r\n",
    "url list": b"http://radio.example/stream.mp3\nhttp://radio.example/b.mp3\n",
    "rtsp url": b"rtsp://camera.local/live\n",
}

MEDIA_HEADS = {
    "wav": b"RIFF\x24\x00\x00\x00WAVEfmt ",
    "mp3 with tag": b"ID3\x04\x00\x00\x00\x00\x00\x00",
    "mp3 frame": b"\xff\xfb\x90\x64\x00",
    "flac": b"fLaC\x00\x00\x00\x22",
    "ogg": b"OggS\x00\x02",
    "mp4": b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00",
    "matroska": b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01",
    "amr": b"#!AMR\n",
}


@pytest.mark.parametrize("head", FORBIDDEN_HEADS.values(), ids=FORBIDDEN_HEADS.keys())
def test_playlists_are_refused(head: bytes) -> None:
    assert forbidden_kind(head) is not None
    with pytest.raises(ForbiddenFormatError, match="playlists and file-referencing formats"):
        refuse_playlists(head)


@pytest.mark.parametrize("head", MEDIA_HEADS.values(), ids=MEDIA_HEADS.keys())
def test_media_is_not_taken_for_a_playlist(head: bytes) -> None:
    assert forbidden_kind(head) is None
    refuse_playlists(head)
    assert media_kind(head) is not None


@pytest.mark.parametrize(
    "head",
    [b"", b"hello, these are my notes\n", b'<?xml version="1.0"?><note>hi</note>', b"\x00" * 64],
)
def test_other_content_is_left_to_ffmpeg(head: bytes) -> None:
    assert forbidden_kind(head) is None
    assert media_kind(head) is None


def test_message_names_the_kind_of_playlist() -> None:
    with pytest.raises(ForbiddenFormatError, match="ffconcat"):
        refuse_playlists(FORBIDDEN_HEADS["ffconcat"])


def test_ffmpeg_is_restricted_to_local_files_and_media_demuxers() -> None:
    options = container_options()
    assert options["protocol_whitelist"] == "file"
    allowed = options["format_whitelist"].split(",")
    assert {"wav", "mp3", "mov", "ogg", "flac", "amr", "matroska", "mpegts"} <= set(allowed)
    assert not {"hls", "concat", "dash", "sdp", "rtp", "rtsp", "image2", "tty"} & set(allowed)
    assert allowed == list(ALLOWED_DEMUXERS)
