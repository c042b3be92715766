"""Grouping voice embeddings by speaker (numpy and scipy, no learning).

Known count: agglomerative clustering (average linkage, cosine distance).
Unknown count: bounded by how many groups of windows stand apart (average
linkage), then the eigengap of a nearest-neighbour graph's Laplacian
(NME-SC), at most ``max_speakers``. Long recordings are clustered on an even
sample of their windows, and every window then joins the nearest centroid.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

MAX_FIT_WINDOWS = 1500
"""More windows than this are clustered on an even sample (linkage needs n² memory)."""
MAX_ESTIMATE_WINDOWS = 600
"""The speaker count is estimated on at most this many windows (eigenvalues cost n³)."""
NEIGHBOUR_COUNTS = 16
MAX_NEIGHBOUR_SHARE = 0.4
DISTINCT_DISTANCE = 0.25
"""Groups of windows that merge closer than this (mean cosine distance) are one voice."""
SEPARATION = 2.6
NEAR = 3
"""The two most different groups of windows are one voice unless they are
``SEPARATION`` times further apart than a window is from its ``NEAR``-th nearest
window. Tuned on made speech (16 and 8 kHz): one voice split in two was at most
2.52 times apart, the closest two voices (flite rms and awb at 8 kHz) 2.72."""

Embeddings = npt.NDArray[np.float32]
Labels = npt.NDArray[np.int64]


def cluster(embeddings: Embeddings, speakers: int | None, max_speakers: int = 8) -> Labels:
    """A speaker index (0-based, in order of first appearance) for each embedding row.

    ``speakers`` is the known count, or ``None`` to estimate it (at most ``max_speakers``).
    """
    count = len(embeddings)
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    unit = _normalise(embeddings)
    fit = _even_sample(count, MAX_FIT_WINDOWS)
    tree = _average_linkage(unit[fit])
    wanted = speakers if speakers is not None else estimate_speakers(unit[fit], max_speakers, tree)
    labels = _agglomerative(tree, len(fit), min(max(wanted, 1), len(fit)))
    if len(fit) < count:
        labels = _nearest_centroid(unit, unit[fit], labels)
    return in_order_of_appearance(labels)


def estimate_speakers(
    unit: Embeddings, max_speakers: int, tree: npt.NDArray[np.float64] | None = None
) -> int:
    """How many voices the unit-length ``unit`` rows hold, from 1 to ``max_speakers``.

    Average-linkage clustering bounds the count: groups of windows that merge
    closer than ``DISTINCT_DISTANCE`` are one voice, and so are the two most
    different groups when they are not clearly further apart than a window is
    from its nearest neighbours.
    Within that bound NME-SC (Park et al., 2019) picks the count: each window
    is linked to its ``p`` most similar windows; k groups barely linked to each
    other show as k near-zero eigenvalues of the graph's Laplacian, so the
    count is where the sorted eigenvalues jump most, for the ``p`` whose
    (normalised) jump is largest for the fewest links. ``tree`` is the rows'
    average linkage when the caller has it already.
    """
    if len(unit) < 2 or max_speakers <= 1:
        return 1
    tree = _average_linkage(unit) if tree is None else tree
    bound = min(max_speakers, 1 + int(np.sum(tree[:, 2] >= DISTINCT_DISTANCE)))
    if bound <= 1 or _one_voice(unit, tree):
        return 1
    return bound if bound == 2 else _eigengap_count(unit, bound)


def _one_voice(unit: Embeddings, tree: npt.NDArray[np.float64]) -> bool:
    """Whether the last merge (the two most different groups) joins one voice: the
    groups are not clearly further apart than a window is from its near neighbours."""
    return float(tree[-1, 2]) < SEPARATION * _neighbour_distance(unit)


def _neighbour_distance(unit: Embeddings) -> float:
    """The median cosine distance from a window to its ``NEAR``-th most similar window."""
    distance = 1.0 - unit.astype(np.float64) @ unit.T.astype(np.float64)
    np.fill_diagonal(distance, np.inf)
    rank = min(NEAR, len(unit) - 1) - 1
    return float(np.median(np.sort(distance, axis=1)[:, rank]))


def _eigengap_count(unit: Embeddings, top: int) -> int:
    """NME-SC's count, from 2 to ``top``."""
    sample = unit[_even_sample(len(unit), MAX_ESTIMATE_WINDOWS)].astype(np.float64)
    similarity = sample @ sample.T
    best_ratio, best_count = np.inf, 2
    for neighbours in _neighbour_counts(len(sample)):
        eigenvalues = np.linalg.eigvalsh(_laplacian(_linked(similarity, neighbours)))
        gaps = np.diff(eigenvalues[: top + 1])[1:]  # jumps after the 2nd, 3rd, ... eigenvalue
        jump = max(float(gaps.max()) / max(float(eigenvalues[-1]), 1e-10), 1e-10)
        if neighbours / jump < best_ratio:
            best_ratio, best_count = neighbours / jump, int(np.argmax(gaps)) + 2
    return best_count


def _neighbour_counts(count: int) -> list[int]:
    """The link counts ``p`` tried: up to ``NEIGHBOUR_COUNTS`` from 2 to 40 % of the windows."""
    highest = max(3.0, MAX_NEIGHBOUR_SHARE * count)
    return sorted({int(p) for p in np.linspace(2, min(highest, count - 1), NEIGHBOUR_COUNTS)})


def _linked(similarity: npt.NDArray[np.float64], neighbours: int) -> npt.NDArray[np.float64]:
    """The graph linking each window to its ``neighbours`` most similar ones (symmetrised)."""
    thresholds = np.sort(similarity, axis=1)[:, -neighbours][:, None]
    links = (similarity >= thresholds).astype(np.float64)
    return np.asarray((links + links.T) / 2)


def _laplacian(graph: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The graph's Laplacian ``D - A``."""
    return np.asarray(np.diag(graph.sum(axis=1)) - graph)


def _average_linkage(unit: Embeddings) -> npt.NDArray[np.float64]:
    """Average-linkage merge tree of the rows on cosine distance (empty for fewer than two)."""
    from scipy.cluster.hierarchy import linkage

    if len(unit) < 2:
        return np.zeros((0, 4), dtype=np.float64)
    return np.asarray(linkage(unit.astype(np.float64), method="average", metric="cosine"))


def _agglomerative(tree: npt.NDArray[np.float64], rows: int, count: int) -> Labels:
    """The ``rows`` cut from their merge ``tree`` into ``count`` groups (0-based labels)."""
    from scipy.cluster.hierarchy import fcluster

    if count <= 1 or rows < 2:
        return np.zeros(rows, dtype=np.int64)
    return np.asarray(fcluster(tree, count, criterion="maxclust"), dtype=np.int64) - 1


def _nearest_centroid(unit: Embeddings, fitted: Embeddings, labels: Labels) -> Labels:
    """Each row of ``unit`` labelled with the most similar centroid of the fitted groups."""
    groups = np.unique(labels)
    centroids = _normalise(np.stack([fitted[labels == g].mean(axis=0) for g in groups]))
    return np.asarray(groups[np.argmax(unit @ centroids.T, axis=1)], dtype=np.int64)


def in_order_of_appearance(labels: Labels) -> Labels:
    """``labels`` renumbered so the first label seen is 0, the next new one 1, ..."""
    order: dict[int, int] = {}
    for label in labels.tolist():
        order.setdefault(label, len(order))
    return np.asarray([order[label] for label in labels.tolist()], dtype=np.int64)


def _even_sample(count: int, limit: int) -> npt.NDArray[np.int64]:
    """At most ``limit`` indices spread evenly over ``range(count)``."""
    if count <= limit:
        return np.arange(count, dtype=np.int64)
    return np.unique(np.linspace(0, count - 1, limit).round().astype(np.int64))


def _normalise(vectors: Embeddings) -> Embeddings:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)
