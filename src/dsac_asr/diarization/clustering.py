"""Linking the chunks' local speakers into the recording's speakers (scipy).

Each local speaker of each chunk has a CAM++ embedding. Those with enough
speech are grouped by agglomerative clustering (scipy, centroid linkage on
unit vectors, the choice of pyannote's 3.x pipelines): cut into the known
number of speakers, or where groups stand further apart than ``threshold``;
groups too small to be a speaker join the nearest large one. Then every local
speaker takes the most similar group's centroid, two speakers of one chunk
never the same group (Hungarian assignment, ``scipy.optimize``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

UNASSIGNED = -2
MAX_TRAIN = 3000
"""Local speakers that shape the groups at most (evenly spread over the recording): the
linkage holds every pair's distance, 0.5 GB for the 8,600 of 4 hours; 3,000 is 4 h 10 min
of chunks with one speaker each, more than 1 h of three speakers each."""

Floats = npt.NDArray[np.float32]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ClusterSettings:
    """The clustering's tuned knobs (see ``dsac_asr.diarization.tuning``)."""

    threshold: float
    """Centroid-linkage distance (between unit vectors) beyond which groups are different people."""
    min_cluster_size: int
    """Groups with fewer local speakers than this are not a speaker of their own (auto count)."""
    min_train_s: float
    """Local speakers with less speech than this do not shape the groups (they are assigned)."""


def cluster_speakers(
    embeddings: Floats,
    speech_s: Floats,
    speakers: int | None,
    max_speakers: int,
    settings: ClusterSettings,
) -> tuple[Ints, int]:
    """A global speaker for each local one, and how many there are.

    ``embeddings`` is (chunks, local speakers, dimension) with NaN rows where
    nothing was embedded; ``speech_s`` (chunks, local speakers) is each one's
    speech in seconds. Returns (chunks, local speakers) indices from 0, with
    ``UNASSIGNED`` for local speakers without speech or embedding.
    """
    embedded = np.isfinite(embeddings).all(axis=2) & (speech_s > 0)
    if not embedded.any():
        return np.where(speech_s > 0, 0, UNASSIGNED).astype(np.int64), 1
    unit = _normalise(np.nan_to_num(embeddings))
    train = embedded & (speech_s >= settings.min_train_s)
    if train.sum() < 2:
        train = embedded
    train = evenly_thinned(train, MAX_TRAIN)
    labels = _groups(unit[train], speech_s[train], speakers, max_speakers, settings)
    centroids = _normalise(
        np.stack([unit[train][labels == k].mean(axis=0) for k in range(labels.max() + 1)])
    )
    return assign(unit, embedded, centroids), len(centroids)


def evenly_thinned(chosen: npt.NDArray[np.bool_], most: int) -> npt.NDArray[np.bool_]:
    """``chosen`` (chunks, local speakers) with at most ``most`` kept, spread evenly in
    chunk order (the same answer every time)."""
    rows = np.flatnonzero(chosen.ravel())
    if len(rows) <= most:
        return chosen
    kept = np.zeros(chosen.size, dtype=bool)
    kept[rows[np.linspace(0, len(rows) - 1, most).round().astype(np.int64)]] = True
    return kept.reshape(chosen.shape)


def _groups(
    unit: Floats,
    weights: Floats,
    speakers: int | None,
    max_speakers: int,
    settings: ClusterSettings,
) -> Ints:
    """Cluster labels 0..k-1 of the training rows (``weights``: their speech in seconds).

    A given count is a ceiling, like ``max_speakers``: groups beyond it are merged,
    the least heard first, into the most similar; voices too alike to stand apart
    are not split by force (measured on the AMI dev excerpts, forcing the count
    split the main speaker where a participant said only a word or two)."""
    if len(unit) < 2 or speakers == 1 or max_speakers <= 1:
        return np.zeros(len(unit), dtype=np.int64)
    from scipy.cluster.hierarchy import fcluster, linkage

    tree = linkage(unit.astype(np.float64), method="centroid", metric="euclidean")
    labels = _dense(fcluster(tree, settings.threshold, criterion="distance"))
    labels = _absorb_small(unit, labels, settings.min_cluster_size)
    ceiling = max_speakers if speakers is None else min(speakers, max_speakers)
    while labels.max() + 1 > ceiling:
        labels = _absorb_least_heard(unit, labels, weights)
    return labels


def _absorb_least_heard(unit: Floats, labels: Ints, weights: Floats) -> Ints:
    """The group with the least speech (summed ``weights``) moved to the most similar other."""
    totals = np.bincount(labels, weights=weights)
    least = int(np.argmin(totals))
    keep = [k for k in range(len(totals)) if k != least]
    centroids = _normalise(np.stack([unit[labels == k].mean(axis=0) for k in keep]))
    moved = labels.copy()
    rows = labels == least
    moved[rows] = np.asarray(keep)[np.argmax(unit[rows].mean(axis=0) @ centroids.T)]
    return _dense(moved)


def _absorb_small(unit: Floats, labels: Ints, min_size: int) -> Ints:
    """Rows of groups smaller than ``min_size`` moved to the most similar large group."""
    sizes = np.bincount(labels)
    large = np.flatnonzero(sizes >= min_size)
    if len(large) == 0:
        return np.zeros(len(labels), dtype=np.int64)
    if len(large) == len(sizes):
        return labels
    centroids = _normalise(np.stack([unit[labels == k].mean(axis=0) for k in large]))
    small = ~np.isin(labels, large)
    moved = labels.copy()
    moved[small] = large[np.argmax(unit[small] @ centroids.T, axis=1)]
    return _dense(moved)


def assign(unit: Floats, embedded: npt.NDArray[np.bool_], centroids: Floats) -> Ints:
    """Each embedded local speaker's most similar centroid, distinct within a chunk
    (Hungarian assignment); ``UNASSIGNED`` elsewhere."""
    from scipy.optimize import linear_sum_assignment

    hard = np.full(embedded.shape, UNASSIGNED, dtype=np.int64)
    for c in range(embedded.shape[0]):
        local = np.flatnonzero(embedded[c])
        if len(local) == 0:
            continue
        similarity = unit[c, local] @ centroids.T
        rows, columns = linear_sum_assignment(similarity, maximize=True)
        hard[c, local[rows]] = columns
        leftover = np.setdiff1d(np.arange(len(local)), rows)
        hard[c, local[leftover]] = np.argmax(similarity[leftover], axis=1)
    return hard


def _dense(labels: npt.ArrayLike) -> Ints:
    """Labels renumbered 0..k-1 (in order of their values)."""
    return np.asarray(np.unique(np.asarray(labels), return_inverse=True)[1], dtype=np.int64)


def _normalise(vectors: Floats) -> Floats:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return np.asarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)
