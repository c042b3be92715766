"""Several clips' speech in one array, so that their windows decode in one batch.

The clips' speech (``CollapsedAudio``) is laid end to end with ``CLIP_GAP_S``
of silence between clips. By default each clip is cut into its own windows,
exactly as it would be alone: no window holds two clips. Neighbouring clips
with the same share key are packed into shared windows instead (Whisper
encodes 30 s whatever the speech, so five 5 s clips in one window cost about
a fifth): faster, but a clip's words may then depend on its neighbours'. A
word is mapped back to its clip by its middle, its times to the clip's audio.
"""

from __future__ import annotations

import bisect
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

import numpy as np
import numpy.typing as npt

from dsac_asr.engines.regions import CollapsedAudio, Region, pack

CLIP_GAP_S = 0.6


class TimeMap(Protocol):
    """Maps a word's times in decoded audio back to the audio it came from."""

    def to_original(self, start_s: float, end_s: float) -> tuple[float, float]:
        """``(start_s, end_s)`` in the original audio."""
        ...


@dataclass(frozen=True)
class ClipTimes:
    """Times in the joint audio mapped to one clip's original audio."""

    speech: CollapsedAudio
    offset_s: float

    def to_original(self, start_s: float, end_s: float) -> tuple[float, float]:
        """Shift into the clip's collapsed speech, then map to its original audio."""
        return self.speech.to_original(start_s - self.offset_s, end_s - self.offset_s)


@dataclass(frozen=True)
class JointSpeech:
    """Clips' collapsed speech end to end; ``windows`` (in the joint audio) each lie in
    one clip. Like ``CollapsedAudio``, the joint audio is built only a ``slice`` at a time."""

    clips: tuple[CollapsedAudio, ...]
    starts: tuple[int, ...]
    windows: tuple[Region, ...]
    sample_rate_hz: int

    @property
    def length(self) -> int:
        """Samples in the joint audio."""
        return self.starts[-1] + self.clips[-1].length if self.clips else 0

    @property
    def duration_s(self) -> float:
        """Length of the joint audio."""
        return self.length / self.sample_rate_hz

    def slice(self, start: int, end: int) -> npt.NDArray[np.float32]:
        """Samples ``start`` to ``end`` of the joint audio, copied from the clips' audio."""
        start, end = max(0, start), min(end, self.length)
        out = np.zeros(max(0, end - start), dtype=np.float32)
        for clip, clip_start in zip(self.clips, self.starts, strict=True):
            low, high = max(start, clip_start), min(end, clip_start + clip.length)
            if low < high:
                clip.copy_into(out[low - start : high - start], low - clip_start)
        return out

    def clip_at(self, time_s: float) -> int:
        """Index of the clip with speech nearest ``time_s`` of the joint audio (gaps
        split in the middle); a clip without speech is never the answer."""
        position = int((time_s + CLIP_GAP_S / 2) * self.sample_rate_hz)
        indices, starts = self._speaking
        return indices[max(0, bisect.bisect_right(starts, position) - 1)]

    @cached_property
    def _speaking(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The indices of the clips with speech, and their starts."""
        indices = tuple(i for i, clip in enumerate(self.clips) if clip.regions) or (0,)
        return indices, tuple(self.starts[i] for i in indices)

    def times_of(self, index: int) -> ClipTimes:
        """The time map of clip ``index``."""
        return ClipTimes(self.clips[index], self.starts[index] / self.sample_rate_hz)


def join_speech(
    clips: Sequence[CollapsedAudio],
    window_s: float,
    share: Sequence[Hashable | None] | None = None,
) -> JointSpeech:
    """``clips`` laid end to end, cut into windows of at most ``window_s``: each
    clip alone, or runs of neighbours with the same ``share`` key (not None) packed."""
    rate = clips[0].sample_rate_hz if clips else 16000
    gap = int(CLIP_GAP_S * rate)
    starts: list[int] = []
    position = 0
    for index, clip in enumerate(clips):
        if index and clip.length:
            position += gap
        starts.append(position)
        position += clip.length
    keys = list(share) if share is not None else [None] * len(clips)
    windows = _windows(clips, starts, keys, int(window_s * rate))
    return JointSpeech(tuple(clips), tuple(starts), tuple(windows), rate)


def _windows(
    clips: Sequence[CollapsedAudio],
    starts: Sequence[int],
    keys: Sequence[Hashable | None],
    window: int,
) -> list[Region]:
    """Each run of clips that may share windows (one clip when its key is None), packed."""
    windows: list[Region] = []
    run: list[Region] = []
    for index, clip in enumerate(clips):
        if index and (keys[index] is None or keys[index] != keys[index - 1]):
            windows += pack(run, window)
            run = []
        run += [
            _placed(region, offset, starts[index])
            for region, offset in zip(clip.regions, clip.offsets, strict=True)
        ]
    return windows + pack(run, window)


def _placed(region: Region, offset: int, start: int) -> Region:
    """A region of a clip's original audio, placed in the joint audio."""
    return Region(start + offset, start + offset + region.end - region.start)
