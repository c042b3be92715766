"""Decoding media to float32 samples at a chosen rate (:func:`decode`).

Decoding streams packet by packet into preallocated blocks of
:data:`BLOCK_SAMPLES` samples, joined once at the end into one array while
the blocks are freed one by one, so the signal is never held twice: the
peak is the decoded audio plus one block. Before decoding, the declared
duration is priced against the memory budget and the channel cap
(:mod:`dsac_asr.audio.budget`); while decoding, the duration limit and the
budget are enforced on the samples actually decoded (a header that
understates the duration does not get past them).

Rules for damaged input:

* a packet that fails to decode is skipped; a failure of the *last* packet
  is what a truncated file looks like and is not counted as damage;
* a demuxing error ends the stream there, as truncation does;
* the file is refused with :class:`CorruptMediaError` when nothing decoded
  after an error, when more than :data:`MAX_DAMAGED_FRACTION` of its packets
  are damaged, or when any packet is damaged and less than
  :data:`MIN_DAMAGED_COVERAGE` of the declared duration decoded (demuxers
  skip unreadable stretches silently, so few packets fail in a file that is
  mostly garbage); otherwise what decoded is returned: a truncated recording
  keeps the part that was recorded, a glitch or two is skipped over.

Damage that FFmpeg drops without any decoding error (Ogg pages failing
their checksum, for example) shortens the audio as truncation does; what is
returned is then still genuine audio, never garbage.

Channels: up to ``MediaLimits.max_channels`` are kept as they are, unless
the channel mode is ``"mix"`` or the budget says otherwise; a file with
more is mixed to one channel (mean of all) while decoding, so nothing said
on any channel is lost and the full channel count is never held.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from av.audio.frame import AudioFrame
from av.audio.stream import AudioStream
from av.packet import Packet

from dsac_asr.audio.budget import budget_message, max_samples, output_channels
from dsac_asr.audio.convert import AV_ERRORS, FrameConverter
from dsac_asr.audio.probe import OpenMedia, format_seconds, open_media
from dsac_asr.config import MediaLimits
from dsac_asr.errors import (
    CorruptMediaError,
    EmptyMediaError,
    InvalidOptionError,
    MediaTooLongError,
)

MAX_DAMAGED_FRACTION = 0.2
"""Above this fraction of undecodable packets a file is refused as corrupt."""

MIN_DAMAGED_COVERAGE = 0.5
"""A damaged file must decode at least this fraction of its declared duration."""

MIN_RATE_HZ, MAX_RATE_HZ = 1000, 192_000

BLOCK_SAMPLES = 1 << 23
"""Samples per channel in one block (32 MiB per channel, over glibc's largest mmap
threshold, so a freed block goes back to the system at once)."""

ProgressCallback = Callable[[float], None]


@dataclass(frozen=True, eq=False)
class DecodedAudio:
    """Decoded audio: ``samples`` has shape (channels, n_samples), float32 in [-1, 1]."""

    samples: npt.NDArray[np.float32]
    sample_rate_hz: int

    def __post_init__(self) -> None:
        if self.samples.ndim != 2 or self.samples.shape[0] < 1:
            raise ValueError("samples must have shape (channels, n_samples)")

    @property
    def duration_s(self) -> float:
        """Length of the audio in seconds."""
        return int(self.samples.shape[1]) / self.sample_rate_hz

    @property
    def channel_count(self) -> int:
        """Number of channels."""
        return int(self.samples.shape[0])

    def mixed(self) -> npt.NDArray[np.float32]:
        """The channels mixed to mono (their mean), 1-D."""
        if self.channel_count == 1:
            return self.channel(0)
        return np.asarray(self.samples.mean(axis=0, dtype=np.float32), dtype=np.float32)

    def channel(self, index: int) -> npt.NDArray[np.float32]:
        """Channel ``index`` (0-based), 1-D."""
        if not 0 <= index < self.channel_count:
            raise InvalidOptionError(
                f"channel {index} does not exist: the audio has {self.channel_count} channel(s)"
            )
        return np.asarray(self.samples[index], dtype=np.float32)


def decode(
    path: Path,
    sample_rate_hz: int,
    limits: MediaLimits,
    on_progress: ProgressCallback | None = None,
    *,
    channel_mode: str = "auto",
) -> DecodedAudio:
    """Decode ``path`` to float32 at ``sample_rate_hz``.

    Applies every check of :func:`~dsac_asr.audio.probe.probe`, the channel
    and memory rules of :mod:`dsac_asr.audio.budget` for ``channel_mode``
    (``"mix"`` decodes to one channel; ``"auto"`` and ``"separate"`` keep up
    to ``limits.max_channels``), then the duration limit and the budget on
    decoded samples and the damage rules of this module. ``on_progress``
    receives the fraction decoded (0..1) when the duration is known, and
    1.0 at the end.
    """
    _check_rate(sample_rate_hz)
    with open_media(path, limits) as media:
        expected = media.info.duration_s
        channels = output_channels(
            channel_mode, media.info.channels, expected, sample_rate_hz, limits
        )
        sink = _SampleSink(_SinkShape(sample_rate_hz, channels), limits, expected, on_progress)
        stats = _decode_into(media, sink, mix=channels == 1)
    audio = _finish(sink, stats, expected)
    if on_progress is not None:
        on_progress(1.0)
    return audio


def _check_rate(sample_rate_hz: int) -> None:
    """Refuse an output sample rate outside what makes sense for speech."""
    if not MIN_RATE_HZ <= sample_rate_hz <= MAX_RATE_HZ:
        raise InvalidOptionError(
            f"sample rate {sample_rate_hz} Hz is outside {MIN_RATE_HZ}..{MAX_RATE_HZ} Hz"
        )


class _DecodeStats:
    """Counts of decoded and failed packets, for the damage rules."""

    def __init__(self) -> None:
        self.good = 0
        self.failed = 0
        self.last_failed = False
        self.demux_failed = False

    def record(self, ok: bool) -> None:
        """Count one data packet as decoded (``ok``) or failed."""
        self.good += ok
        self.failed += not ok
        self.last_failed = not ok

    @property
    def damaged(self) -> int:
        """Failed packets, a failed last packet excepted."""
        return self.failed - self.last_failed

    @property
    def damaged_fraction(self) -> float:
        """Damaged packets over all packets."""
        return self.damaged / max(1, self.good + self.failed)


class _Progress:
    """Reports decoded fractions in steps of at least one percent."""

    def __init__(self, expected_samples: float | None, callback: ProgressCallback | None) -> None:
        self._expected = expected_samples
        self._callback = callback
        self._last = 0.0

    def update(self, decoded_samples: int) -> None:
        """Report ``decoded_samples`` out of those expected, when worth reporting."""
        if self._callback is None or not self._expected:
            return
        fraction = min(1.0, decoded_samples / self._expected)
        if fraction - self._last >= 0.01:
            self._last = fraction
            self._callback(fraction)


@dataclass(frozen=True)
class _SinkShape:
    """What the sink collects: samples at this rate, in this many channels."""

    sample_rate_hz: int
    channels: int


class _SampleSink:
    """Writes converted chunks into blocks, enforcing the duration limit and the
    memory budget as they arrive."""

    def __init__(
        self,
        shape: _SinkShape,
        limits: MediaLimits,
        expected_s: float | None,
        on_progress: ProgressCallback | None,
    ) -> None:
        self.sample_rate_hz = shape.sample_rate_hz
        self.channels = shape.channels
        self._limits = limits
        self._max_samples = max_samples(shape.sample_rate_hz, shape.channels, limits)
        expected = None if expected_s is None else expected_s * shape.sample_rate_hz
        self._progress = _Progress(expected, on_progress)
        self._blocks: list[npt.NDArray[np.float32]] = []
        self.total = 0

    def add(self, chunk: npt.NDArray[np.float32]) -> None:
        """Keep ``chunk`` (channels, n); raise once the total is over a limit."""
        if self.total + chunk.shape[1] > self._max_samples:
            raise MediaTooLongError(self._over_limit(self.total + chunk.shape[1]))
        if chunk.shape[0] != self.channels:
            chunk = self._reshaped(chunk)
        done = 0
        while done < chunk.shape[1]:
            done += self._write(chunk[:, done:])
        self._progress.update(self.total)

    def _reshaped(self, chunk: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """A chunk whose channel count differs from the stream's declared one, mixed to
        one channel when that is what is kept; else the file is refused."""
        if self.channels != 1:
            raise CorruptMediaError("the number of audio channels changes within the file")
        return np.asarray(chunk.mean(axis=0, keepdims=True, dtype=np.float32), dtype=np.float32)

    def _write(self, chunk: npt.NDArray[np.float32]) -> int:
        """Copy as much of ``chunk`` as the last block holds (a new one when it is full)."""
        offset = self.total % BLOCK_SAMPLES
        if offset == 0:
            self._blocks.append(np.empty((self.channels, BLOCK_SAMPLES), dtype=np.float32))
        count = min(int(chunk.shape[1]), BLOCK_SAMPLES - offset)
        self._blocks[-1][:, offset : offset + count] = chunk[:, :count]
        self.total += count
        return count

    def _over_limit(self, samples: int) -> str:
        """Which limit ``samples`` per channel passes, in plain words."""
        duration_s = samples / self.sample_rate_hz
        if duration_s > self._limits.max_duration_s:
            return (
                "the audio lasts longer than the limit of "
                f"{format_seconds(self._limits.max_duration_s)}"
            )
        return budget_message(duration_s, self.sample_rate_hz, self.channels, self._limits)

    def samples(self) -> npt.NDArray[np.float32]:
        """All blocks joined into one (channels, n) array, clipped to [-1, 1]; each
        block is freed once copied, so the peak is the audio plus one block."""
        joined = np.empty((self.channels, self.total), dtype=np.float32)
        blocks, self._blocks = self._blocks, []
        blocks.reverse()
        start = 0
        while blocks:
            block = blocks.pop()
            count = min(BLOCK_SAMPLES, self.total - start)
            np.clip(block[:, :count], -1.0, 1.0, out=joined[:, start : start + count])
            start += count
            del block
        return joined


def _decode_into(media: OpenMedia, sink: _SampleSink, *, mix: bool) -> _DecodeStats:
    """Decode the audio stream of ``media`` into ``sink`` (mixed to one channel with
    ``mix``); return the damage counts."""
    stats = _DecodeStats()
    resampler = FrameConverter(sink.sample_rate_hz, mix=mix)
    for frame in _frames(media, stats):
        for chunk in resampler.convert(frame):
            sink.add(chunk)
    for chunk in resampler.convert(None):
        sink.add(chunk)
    return stats


def _frames(media: OpenMedia, stats: _DecodeStats) -> Iterator[AudioFrame]:
    """Decoded frames of the audio stream, skipping packets that fail to decode."""
    packets = media.container.demux(media.stream)
    while (packet := _next_packet(packets, stats)) is not None:
        yield from _decode_packet(media.stream, packet, stats)


def _next_packet(
    packets: Iterator[Packet[AudioStream]], stats: _DecodeStats
) -> Packet[AudioStream] | None:
    """The next packet, or ``None`` at the end or at a demuxing error."""
    try:
        return next(packets)
    except StopIteration:
        return None
    except AV_ERRORS:
        stats.demux_failed = True
        return None


def _decode_packet(
    stream: AudioStream, packet: Packet[AudioStream], stats: _DecodeStats
) -> list[AudioFrame]:
    """Decode one packet (an empty one flushes the decoder), counting failures."""
    is_flush = packet.size == 0
    try:
        frames = stream.codec_context.decode(packet)
    except AV_ERRORS:
        if not is_flush:
            stats.record(ok=False)
        return []
    if not is_flush:
        stats.record(ok=True)
    return frames


def _finish(sink: _SampleSink, stats: _DecodeStats, declared_s: float | None) -> DecodedAudio:
    """Apply the damage rules and build the result."""
    if sink.total == 0:
        if stats.failed or stats.demux_failed:
            raise CorruptMediaError("no audio could be decoded: the file is corrupt or truncated")
        raise EmptyMediaError("the file holds no audio samples")
    if stats.damaged_fraction > MAX_DAMAGED_FRACTION:
        raise CorruptMediaError(
            f"{stats.damaged_fraction:.0%} of the audio could not be decoded: the file is corrupt"
        )
    decoded_s = sink.total / sink.sample_rate_hz
    if stats.damaged and declared_s and decoded_s < MIN_DAMAGED_COVERAGE * declared_s:
        raise CorruptMediaError(
            f"only {decoded_s:.1f} s of the declared {declared_s:.1f} s could be decoded: "
            "the file is corrupt"
        )
    return DecodedAudio(sink.samples(), sink.sample_rate_hz)
