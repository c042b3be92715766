"""Clustering voice embeddings into speakers, on synthetic embeddings:
each speaker a random direction, each window that direction plus noise."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from dsac_asr.diarization import clustering
from dsac_asr.diarization.clustering import cluster, estimate_speakers, in_order_of_appearance

DIMENSION = 256


def _voices(
    speakers: int, windows_each: int, noise: float = 0.5, seed: int = 0
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """Windows of alternating turns (3 windows a turn) and the speaker of each.

    Scaled like resemblyzer's on made speech: two voices' centres at cosine 0.5,
    two windows of one voice at about 0.8 (``noise`` is the noise's length).
    """
    rng = np.random.default_rng(seed)
    shared = _unit(rng.normal(size=(1, DIMENSION)))
    centres = _unit(shared + _unit(rng.normal(size=(speakers, DIMENSION))))
    turns = [k for _ in range(windows_each // 3) for k in range(speakers)]
    truth = np.repeat(np.asarray(turns, dtype=np.int64), 3)
    jitter = noise * _unit(rng.normal(size=(len(truth), DIMENSION)))
    return _unit(centres[truth] + jitter).astype(np.float32), truth


def _unit(vectors: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.mark.parametrize("speakers", [2, 3, 5])
def test_a_known_count_separates_the_speakers(speakers: int) -> None:
    embeddings, truth = _voices(speakers, 30)
    labels = cluster(embeddings, speakers)
    assert np.array_equal(labels, truth)  # truth is already in order of first appearance


@pytest.mark.parametrize("speakers", [1, 2, 3, 4, 6])
def test_the_count_is_estimated(speakers: int) -> None:
    embeddings, truth = _voices(speakers, 30, seed=speakers)
    labels = cluster(embeddings, None)
    assert len(set(labels.tolist())) == speakers
    assert np.array_equal(labels, truth)


def test_a_short_conversation_is_not_split_into_many() -> None:
    embeddings, truth = _voices(2, 6)  # two turns each: 12 windows
    assert np.array_equal(cluster(embeddings, None), truth)


def test_one_voice_with_a_wide_spread_stays_one() -> None:
    embeddings, _ = _voices(1, 60, noise=0.7)
    assert estimate_speakers(embeddings, max_speakers=8) == 1


def test_the_estimate_is_bounded_by_the_maximum() -> None:
    embeddings, _ = _voices(5, 30)
    assert estimate_speakers(embeddings, max_speakers=3) <= 3
    assert len(set(cluster(embeddings, None, max_speakers=3).tolist())) <= 3


def test_labels_follow_first_appearance() -> None:
    labels = np.asarray([4, 4, 1, 7, 1, 4], dtype=np.int64)
    assert in_order_of_appearance(labels).tolist() == [0, 0, 1, 2, 1, 0]


def test_few_or_no_windows() -> None:
    assert cluster(np.zeros((0, DIMENSION), dtype=np.float32), None).tolist() == []
    one, _ = _voices(1, 3)
    assert cluster(one[:1], None).tolist() == [0]
    assert cluster(one[:1], 3).tolist() == [0]  # never more groups than windows


def test_many_windows_are_fitted_on_a_sample_and_all_labelled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(clustering, "MAX_FIT_WINDOWS", 40)
    embeddings, truth = _voices(3, 90)
    labels = cluster(embeddings, None)
    assert len(labels) == len(truth) == 270
    assert np.array_equal(labels, truth)
