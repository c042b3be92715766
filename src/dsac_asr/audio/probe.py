"""Opening media files safely and describing them (:func:`probe`).

Every check that can be made before decoding is made here, in this order:
the file exists and is a regular file, it is not empty, it is within the
size limit, it is not a playlist (sniffed), FFmpeg can open it with an
allowed demuxer, it has an audio stream, and the duration its container
declares is within the duration limit. PyAV/FFmpeg errors are translated
into :mod:`dsac_asr.errors` classes; none escapes.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import av
import av.error
from av.audio.stream import AudioStream
from av.container import InputContainer
from av.stream import Disposition

from dsac_asr.audio.formats import container_options, media_kind, read_head, refuse_playlists
from dsac_asr.config import MediaLimits
from dsac_asr.errors import (
    CorruptMediaError,
    DsacError,
    EmptyMediaError,
    InputError,
    MediaTooLargeError,
    MediaTooLongError,
    NoAudioStreamError,
    NotMediaError,
)


@dataclass(frozen=True)
class MediaInfo:
    """What a media file declares about itself and its (best) audio stream."""

    format_name: str
    codec_name: str
    duration_s: float | None
    sample_rate_hz: int
    channels: int
    size_bytes: int
    has_video: bool


@dataclass(frozen=True)
class OpenMedia:
    """An opened container, its chosen audio stream and their description."""

    container: InputContainer
    stream: AudioStream
    info: MediaInfo


def probe(path: Path, limits: MediaLimits) -> MediaInfo:
    """Describe the media file ``path``, applying every check short of decoding.

    Raises an :class:`~dsac_asr.errors.InputError` subclass when the file is
    missing, empty, too large, a playlist, not media, without audio, or
    declares a duration over ``limits.max_duration_s``.
    """
    with open_media(path, limits) as media:
        return media.info


@contextmanager
def open_media(path: Path, limits: MediaLimits) -> Iterator[OpenMedia]:
    """Open ``path`` for decoding after the checks :func:`probe` documents."""
    size_bytes = check_file(path, limits)
    head = _read_head(path)
    refuse_playlists(head)
    container = open_container(path, head)
    try:
        stream = _audio_stream(container)
        info = _media_info(container, stream, size_bytes)
        check_declared_duration(info.duration_s, limits)
        yield OpenMedia(container, stream, info)
    finally:
        container.close()


def check_file(path: Path, limits: MediaLimits) -> int:
    """Return the size of ``path`` after checking it is a non-empty file within limits."""
    try:
        status = path.stat()
    except FileNotFoundError as exc:
        raise InputError("no such file") from exc
    except OSError as exc:
        raise InputError(f"the file cannot be read ({exc.strerror})") from exc
    if not stat.S_ISREG(status.st_mode):
        raise InputError("not a regular file")
    if status.st_size == 0:
        raise EmptyMediaError("the file is empty (0 bytes)")
    if status.st_size > limits.max_size_bytes:
        raise MediaTooLargeError(
            f"the file is {format_bytes(status.st_size)}, over the limit of "
            f"{format_bytes(limits.max_size_bytes)}"
        )
    return status.st_size


def check_declared_duration(duration_s: float | None, limits: MediaLimits) -> None:
    """Raise :class:`MediaTooLongError` when a declared duration exceeds the limit."""
    if duration_s is not None and duration_s > limits.max_duration_s:
        raise MediaTooLongError(
            f"the media lasts {format_seconds(duration_s)}, over the limit of "
            f"{format_seconds(limits.max_duration_s)}"
        )


def format_bytes(size_bytes: int) -> str:
    """``size_bytes`` in plain words (bytes, KB, MB or GB)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size_bytes >= scale:
            return f"{size_bytes / scale:.1f} {unit}"
    return f"{size_bytes} bytes"


def format_seconds(duration_s: float) -> str:
    """``duration_s`` as ``H:MM:SS`` (or seconds when under a minute)."""
    if duration_s < 60:
        return f"{duration_s:.1f} s"
    minutes, seconds = divmod(round(duration_s), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}"


def _read_head(path: Path) -> bytes:
    """The start of ``path`` for sniffing, with OS errors translated."""
    try:
        return read_head(path)
    except PermissionError as exc:
        raise InputError("permission denied: the file cannot be read") from exc
    except OSError as exc:
        raise InputError(f"the file cannot be read ({exc.strerror})") from exc


def open_container(path: Path, head: bytes) -> InputContainer:
    """Open ``path`` with FFmpeg restricted to allowed demuxers and local files."""
    url = f"file:{path.resolve()}"
    try:
        return av.open(url, mode="r", container_options=container_options())
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise open_error(exc, head) from exc


def open_error(exc: Exception, head: bytes) -> DsacError:
    """The dsac-asr error for a failure to open a file that starts with ``head``."""
    if isinstance(exc, FileNotFoundError):
        return InputError("no such file")
    if isinstance(exc, av.error.ArgumentError | PermissionError):
        return NotMediaError("not an audio or video format that is accepted")
    kind = media_kind(head)
    if kind is not None:
        return CorruptMediaError(f"looks like {kind} but cannot be read: corrupt or truncated")
    return NotMediaError("not an audio or video file")


def _audio_stream(container: InputContainer) -> AudioStream:
    """The container's best audio stream, checked to be usable."""
    stream = container.streams.best("audio")
    if not isinstance(stream, AudioStream):
        raise NoAudioStreamError("the file has no audio stream")
    context = stream.codec_context
    if context.sample_rate <= 0 or context.channels <= 0:
        raise CorruptMediaError("the audio stream declares no sample rate or channels")
    return stream


def _media_info(container: InputContainer, stream: AudioStream, size_bytes: int) -> MediaInfo:
    """Describe ``container`` and its audio ``stream``."""
    return MediaInfo(
        format_name=container.format.name,
        codec_name=stream.codec_context.codec.canonical_name,
        duration_s=declared_duration_s(container, stream),
        sample_rate_hz=stream.codec_context.sample_rate,
        channels=stream.codec_context.channels,
        size_bytes=size_bytes,
        has_video=_has_video(container),
    )


def declared_duration_s(container: InputContainer, stream: AudioStream) -> float | None:
    """The audio stream's declared duration, else the container's, else ``None``."""
    if stream.duration is not None and stream.time_base is not None and stream.duration > 0:
        return float(stream.duration * stream.time_base)
    if container.duration is not None and container.duration > 0:
        return container.duration / av.time_base
    return None


def _has_video(container: InputContainer) -> bool:
    """True when a video stream other than cover art is present."""
    return any(
        not stream.disposition & Disposition.attached_pic for stream in container.streams.video
    )
