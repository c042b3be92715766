"""Speech regions: find them with Silero VAD, collapse the silence between
them, and map times in the collapsed audio back to the original.

faster-whisper's own VAD joins regions seamlessly, and Whisper then often
places a word that starts a region at the end of the one before (a word
jumps back seconds in time, across another speaker's turn). Leaving a short
gap of silence between regions keeps each word on its own side.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

GAP_S = 0.3
VAD_CHUNK_SAMPLES = 512 * 18_750
"""Audio handed to Silero VAD at once: 10 min at 16 kHz (a multiple of its 512-sample
window). faster-whisper's VAD makes two padded copies of what it is given, about
2.1 times its size (4 hours at once would cost 2 GB more than the audio itself),
and runs its encoder on 10,000 windows at a time (about 220 MB whatever the chunk):
measured on 40 min of speech, 296 MB above the audio with 10 min chunks, 427 MB
with 30 min ones."""


@dataclass(frozen=True)
class Region:
    """A stretch of speech, in samples of the original audio."""

    start: int
    end: int


def find_speech(
    samples: npt.NDArray[np.float32],
    sample_rate_hz: int,
    min_silence_s: float = 2.0,
    pad_s: float = 0.4,
) -> list[Region]:
    """Speech regions of 16 kHz mono audio, by faster-whisper's bundled Silero VAD.

    Pauses shorter than ``min_silence_s`` stay inside a region; each region is
    widened by ``pad_s`` on both sides (the defaults are faster-whisper's). The
    audio goes to the VAD :data:`VAD_CHUNK_SAMPLES` at a time, so memory stays
    bounded: a region still open at a chunk's end is looked at again from its start
    in the next chunk, and one longer than a chunk is joined to its continuation.
    """
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(
        min_silence_duration_ms=round(min_silence_s * 1000), speech_pad_ms=round(pad_s * 1000)
    )
    regions: list[Region] = []
    start = 0
    while start < len(samples):
        piece = samples[start : start + VAD_CHUNK_SAMPLES]
        found = get_speech_timestamps(piece, options, sampling_rate=sample_rate_hz)
        chunk = [Region(start + int(c["start"]), start + int(c["end"])) for c in found]
        end = start + len(piece)
        if end < len(samples) and chunk and chunk[-1].end >= end and chunk[-1].start > start:
            regions, start = _joined(regions, chunk[:-1], 0), chunk[-1].start
            continue
        regions, start = _joined(regions, chunk, round(min_silence_s * sample_rate_hz)), end
    return regions


def _joined(before: list[Region], after: list[Region], min_silence: int) -> list[Region]:
    """``before`` then ``after`` (the next chunk's regions), the last region of one and
    the first of the other made one when less than ``min_silence`` apart."""
    if before and after and after[0].start - before[-1].end < min_silence:
        return [*before[:-1], Region(before[-1].start, after[0].end), *after[1:]]
    return [*before, *after]


def split_at_pauses(
    samples: npt.NDArray[np.float32],
    regions: Iterable[Region],
    max_samples: int,
    pause_samples: int,
) -> list[Region]:
    """``regions`` with each one longer than ``max_samples`` cut into pieces that fit.

    Each cut falls in the middle of the quietest ``pause_samples`` of the second
    half of the piece it ends, so a pause between sentences is preferred to
    one between words, and a word is cut only when the audio has no pause.
    """
    pieces: list[Region] = []
    for region in regions:
        start = region.start
        while region.end - start > max_samples:
            cut = _quietest(samples, start + max_samples // 2, start + max_samples, pause_samples)
            pieces.append(Region(start, cut))
            start = cut
        pieces.append(Region(start, region.end))
    return pieces


def _quietest(samples: npt.NDArray[np.float32], low: int, high: int, width: int) -> int:
    """The middle of the last of the quietest ``width`` samples between ``low`` and ``high``."""
    width = max(1, min(width, high - low))
    energy = np.concatenate(([0.0], np.cumsum(np.square(samples[low:high], dtype=np.float64))))
    sums = energy[width:] - energy[:-width]
    last = len(sums) - 1 - int(np.argmin(sums[::-1]))
    return low + last + width // 2


def split_long(regions: Iterable[Region], max_samples: int) -> list[Region]:
    """``regions`` with each one longer than ``max_samples`` cut into pieces that fit."""
    return [
        Region(start, min(start + max_samples, region.end))
        for region in regions
        for start in range(region.start, region.end, max_samples)
    ]


def pack(regions: Iterable[Region], max_samples: int) -> list[Region]:
    """Runs of neighbouring regions joined into spans of at most ``max_samples``.

    Each span reaches from its first region's start to its last one's end; a
    region too long for a span on its own is cut first (``split_long``).
    """
    spans: list[Region] = []
    for region in split_long(regions, max_samples):
        if spans and region.end - spans[-1].start <= max_samples:
            spans[-1] = Region(spans[-1].start, region.end)
        else:
            spans.append(region)
    return spans


class SpeechSource(Protocol):
    """Audio that hands out stretches of itself on demand (never held whole)."""

    def slice(self, start: int, end: int) -> npt.NDArray[np.float32]:
        """Samples ``start`` to ``end`` as a new array."""
        ...


@dataclass(frozen=True)
class CollapsedAudio:
    """Speech regions of ``source`` laid end to end with ``GAP_S`` of silence between them.

    Nothing is copied until asked for: ``slice`` builds a stretch of the collapsed
    audio from ``source``, so a decoder that works window by window never holds a
    second copy of a long file's speech (4 h of speech is 0.9 GB).
    """

    source: npt.NDArray[np.float32]
    regions: tuple[Region, ...]
    offsets: tuple[int, ...]
    sample_rate_hz: int

    @property
    def length(self) -> int:
        """Samples in the collapsed audio."""
        if not self.regions:
            return 0
        last = self.regions[-1]
        return self.offsets[-1] + last.end - last.start

    @property
    def samples(self) -> npt.NDArray[np.float32]:
        """The whole collapsed audio, built anew on each access (for decoders that
        need it in one array)."""
        return self.slice(0, self.length)

    def slice(self, start: int, end: int) -> npt.NDArray[np.float32]:
        """Samples ``start`` to ``end`` of the collapsed audio, copied from ``source``."""
        start, end = max(0, start), min(end, self.length)
        out = np.zeros(max(0, end - start), dtype=np.float32)
        self.copy_into(out, start)
        return out

    def copy_into(self, out: npt.NDArray[np.float32], start: int) -> None:
        """Write the speech of the collapsed audio from ``start`` on into ``out`` (as much
        as it holds); the gaps between regions are left as ``out`` has them."""
        end = min(start + len(out), self.length)
        first = max(0, bisect.bisect_right(self.offsets, start) - 1)
        for region, offset in zip(self.regions[first:], self.offsets[first:], strict=True):
            if offset >= end:
                break
            low, high = max(start, offset), min(end, offset + region.end - region.start)
            if low < high:
                source_start = region.start + low - offset
                out[low - start : high - start] = self.source[
                    source_start : source_start + high - low
                ]

    def to_original(self, start_s: float, end_s: float) -> tuple[float, float]:
        """Map a word's times in the collapsed audio back to the original audio."""
        rate = self.sample_rate_hz
        middle = int((start_s + end_s) / 2 * rate)
        half_gap = int(GAP_S * rate / 2)
        index = max(0, bisect.bisect_right(self.offsets, middle + half_gap) - 1)
        region, offset = self.regions[index], self.offsets[index]
        start = min(max(int(start_s * rate) - offset + region.start, region.start), region.end)
        end = min(max(int(end_s * rate) - offset + region.start, start), region.end)
        return start / rate, end / rate

    def spans(self, max_span_s: float) -> list[Region]:
        """Runs of whole regions of the collapsed audio (in its samples), each at
        most ``max_span_s`` long: the windows a batched decoder works on."""
        placed = (
            Region(offset, offset + region.end - region.start)
            for region, offset in zip(self.regions, self.offsets, strict=True)
        )
        return pack(placed, int(max_span_s * self.sample_rate_hz))


def collapse(
    samples: npt.NDArray[np.float32], regions: list[Region], sample_rate_hz: int
) -> CollapsedAudio:
    """``regions`` of ``samples`` with a short silence between each two (no copy is made:
    see ``CollapsedAudio``)."""
    gap = int(GAP_S * sample_rate_hz)
    offsets: list[int] = []
    position = 0
    for region in regions:
        offsets.append(position)
        position += region.end - region.start + gap
    return CollapsedAudio(samples, tuple(regions), tuple(offsets), sample_rate_hz)
