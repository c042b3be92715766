"""Which media formats are opened, and sniffing for the ones that are refused.

FFmpeg can open far more than audio: playlists (HLS, ffconcat), session
descriptions and other formats that make it read further files or URLs. Two
guards keep decoding to plain media files:

* :func:`refuse_playlists` looks at the first bytes of a file and refuses
  playlists and file-referencing text formats, whatever the file is named;
* :func:`container_options` restricts FFmpeg itself to the demuxers in
  :data:`ALLOWED_DEMUXERS` and to the ``file`` protocol.
"""

from __future__ import annotations

import re
from pathlib import Path

from dsac_asr.errors import ForbiddenFormatError

HEAD_BYTES = 4096
"""How much of a file's start is read for sniffing."""

ALLOWED_DEMUXERS: tuple[str, ...] = (
    "wav",
    "w64",
    "mp3",
    "mov",
    "mp4",
    "m4a",
    "3gp",
    "ogg",
    "flac",
    "amr",
    "amrnb",
    "amrwb",
    "matroska",
    "webm",
    "aac",
    "aiff",
    "caf",
    "au",
    "avi",
    "asf",
    "flv",
    "mpegts",
)
"""FFmpeg demuxer names of the audio and video containers that are accepted."""

FORBIDDEN_MESSAGE = "playlists and file-referencing formats are refused"

_TEXT_MARKERS: dict[str, str] = {
    "#extm3u": "an M3U/HLS playlist",
    "#extinf": "an M3U playlist",
    "ffconcat": "an ffconcat list",
    "[playlist]": "a PLS playlist",
    "[reference]": "an ASF reference file",
    "<asx": "an ASX playlist",
    "<smil": "a SMIL presentation",
    "<?wpl": "a WPL playlist",
    "v=0": "an SDP session description",
}
_XML_ROOTS: dict[str, str] = {
    "<smil": "a SMIL presentation",
    "<asx": "an ASX playlist",
    "<playlist": "an XSPF playlist",
    "<mpd": "a DASH manifest",
    "<compositionplaylist": "an IMF composition playlist",
}
_URL_LINE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|file:)")

_MEDIA_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"RIFF", "WAV/AVI"),
    (0, b"RF64", "WAV"),
    (0, b"riff", "Wave64"),
    (0, b"ID3", "MP3"),
    (0, b"fLaC", "FLAC"),
    (0, b"OggS", "Ogg"),
    (4, b"ftyp", "MP4"),
    (4, b"moov", "MP4"),
    (4, b"mdat", "MP4"),
    (0, b"\x1a\x45\xdf\xa3", "Matroska/WebM"),
    (0, b"#!AMR", "AMR"),
    (0, b"FORM", "AIFF"),
    (0, b"caff", "CAF"),
    (0, b".snd", "AU"),
    (0, b"\x30\x26\xb2\x75", "ASF/WMA"),
    (0, b"FLV", "FLV"),
)


def container_options() -> dict[str, str]:
    """FFmpeg options that restrict opening to allowed demuxers and local files."""
    return {
        "format_whitelist": ",".join(ALLOWED_DEMUXERS),
        "protocol_whitelist": "file",
    }


def read_head(path: Path) -> bytes:
    """The first :data:`HEAD_BYTES` bytes of ``path``."""
    with path.open("rb") as handle:
        return handle.read(HEAD_BYTES)


def refuse_playlists(head: bytes) -> None:
    """Raise :class:`ForbiddenFormatError` when ``head`` starts a playlist-like file."""
    kind = forbidden_kind(head)
    if kind is not None:
        raise ForbiddenFormatError(f"the file is {kind}: {FORBIDDEN_MESSAGE}")


def forbidden_kind(head: bytes) -> str | None:
    """Describe the refused text format ``head`` starts, or ``None`` if it is none."""
    text = _leading_text(head)
    for marker, kind in _TEXT_MARKERS.items():
        if text.startswith(marker):
            return kind
    if text.startswith("<?xml"):
        return next((kind for root, kind in _XML_ROOTS.items() if root in text), None)
    if _URL_LINE.match(text):
        return "a list of URLs"
    return None


def media_kind(head: bytes) -> str | None:
    """Name the media container whose signature ``head`` carries, if any."""
    for offset, magic, kind in _MEDIA_MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return kind
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "MP3/AAC"
    return None


def _leading_text(head: bytes) -> str:
    """``head`` decoded leniently as text, lower-cased, without BOM or leading blanks."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", errors="ignore")
    else:
        text = head.decode("utf-8", errors="ignore")
    return text.lstrip("\ufeff \t\r\n").lower()
