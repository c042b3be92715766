"""From chunks' local speakers to the recording's speaker turns (overlap included).

The segmentation says per chunk how many speakers talk in each frame; where
chunks overlap, their counts are averaged (Hamming-weighted, so a chunk's edges
count least). Once the clustering has told which global speaker each local one
is, each frame keeps that many of the global speakers, the most active first,
so two people talking at once give two overlapping turns. Short gaps within a
speaker's speech are closed and very short pieces dropped (smoothing).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dsac_asr.diarization.segmentation import Segmentation
from dsac_asr.diarization.windows import SpeakerTurn
from dsac_asr.transcript import speaker_label

EDGE_WEIGHT = 1e-3
"""Weight floor of a chunk's frames, so a recording's first and last frames count too."""
UNASSIGNED = -2

Floats = npt.NDArray[np.float32]
Ints = npt.NDArray[np.int64]


def chunk_weights(frames: int) -> Floats:
    """Per-frame weight of a chunk when averaging overlapping chunks."""
    return np.asarray(np.hamming(frames) + EDGE_WEIGHT, dtype=np.float32)


def aggregate(segmentation: Segmentation, values: Floats) -> Floats:
    """The Hamming-weighted mean over chunks of per-chunk ``values`` (chunks, frames, k),
    as (global frames, k)."""
    frames = segmentation.frames_per_chunk
    weights = chunk_weights(frames)[:, None]
    total = np.zeros((segmentation.frame_count, values.shape[2]), dtype=np.float64)
    weight = np.zeros((segmentation.frame_count, 1), dtype=np.float64)
    for offset, chunk in zip(segmentation.offsets.tolist(), values, strict=True):
        stop = min(offset + frames, segmentation.frame_count)
        total[offset:stop] += chunk[: stop - offset] * weights[: stop - offset]
        weight[offset:stop] += weights[: stop - offset]
    return np.asarray(total / np.maximum(weight, 1e-12), dtype=np.float32)


def speaker_count(segmentation: Segmentation) -> Ints:
    """How many speakers talk in each global frame (rounded mean over the chunks)."""
    local = segmentation.activity.sum(axis=2, keepdims=True)
    return np.asarray(np.rint(aggregate(segmentation, local)[:, 0]), dtype=np.int64)


def clustered_activity(segmentation: Segmentation, hard: Ints, clusters: int) -> Floats:
    """(global frames, clusters) activity of each global speaker: per chunk, a cluster
    is as active as the most active local speaker assigned to it."""
    chunks, frames, local = segmentation.activity.shape
    per_chunk = np.zeros((chunks, frames, max(clusters, 1)), dtype=np.float32)
    for c in range(chunks):
        for s in range(local):
            k = int(hard[c, s])
            if k >= 0:
                per_chunk[c, :, k] = np.maximum(per_chunk[c, :, k], segmentation.activity[c, :, s])
    return aggregate(segmentation, per_chunk)


def frame_speakers(activity: Floats, count: Ints) -> npt.NDArray[np.bool_]:
    """(frames, clusters) booleans: in each frame the ``count`` most active clusters."""
    order = np.argsort(-activity, axis=1, kind="stable")
    wanted = np.minimum(count, activity.shape[1])[:, None]
    chosen = np.arange(activity.shape[1])[None, :] < wanted
    binary = np.zeros(activity.shape, dtype=bool)
    np.put_along_axis(binary, order, chosen, axis=1)
    return binary


def runs(active: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """(first, end) frame index pairs (end exclusive) of the runs of true values."""
    padded = np.concatenate([[False], active, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def smoothed(
    spans: list[tuple[float, float]], min_off_s: float, min_on_s: float
) -> list[tuple[float, float]]:
    """``spans`` (sorted) with gaps shorter than ``min_off_s`` closed, then
    pieces shorter than ``min_on_s`` dropped."""
    joined: list[tuple[float, float]] = []
    for start, end in spans:
        if joined and start - joined[-1][1] < min_off_s:
            joined[-1] = (joined[-1][0], max(end, joined[-1][1]))
        else:
            joined.append((start, end))
    return [(start, end) for start, end in joined if end - start >= min_on_s]


def to_turns(
    binary: npt.NDArray[np.bool_],
    segmentation: Segmentation,
    duration_s: float,
    min_off_s: float,
    min_on_s: float,
) -> list[SpeakerTurn]:
    """Speaker turns from per-frame speakers, labelled ``A``, ``B``, ... in order of
    first appearance, sorted by start; overlapping speech gives overlapping turns."""
    step = segmentation.frame_step_s
    spans_by_cluster: list[list[tuple[float, float]]] = []
    for k in range(binary.shape[1]):
        spans = [
            (
                max(0.0, segmentation.frame_time_s(first) - step / 2),
                min(duration_s, segmentation.frame_time_s(end - 1) + step / 2),
            )
            for first, end in runs(binary[:, k])
        ]
        spans_by_cluster.append(smoothed(spans, min_off_s, min_on_s))
    order = sorted(
        (k for k, spans in enumerate(spans_by_cluster) if spans),
        key=lambda k: spans_by_cluster[k][0][0],
    )
    turns = [
        SpeakerTurn(start, end, speaker_label(rank))
        for rank, k in enumerate(order)
        for start, end in spans_by_cluster[k]
    ]
    return sorted(turns, key=lambda turn: (turn.start_s, turn.speaker))
