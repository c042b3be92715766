"""Linking chunks' local speakers into a recording's speakers, on synthetic
embeddings: each person a random direction, each local speaker that direction
plus noise (within a person about cosine 0.8, between people about 0.3)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from scipy.cluster import hierarchy

from dsac_asr.diarization import clustering
from dsac_asr.diarization.clustering import (
    UNASSIGNED,
    ClusterSettings,
    cluster_speakers,
    evenly_thinned,
)

DIMENSION = 192
SETTINGS = ClusterSettings(threshold=0.7, min_cluster_size=1, min_train_s=0.5)
Voices = tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.int64]]


def _voices(people: int, chunks: int, seed: int = 0, noise: float = 0.45) -> Voices:
    """(embeddings, speech_s, truth): chunk ``c`` holds people ``c % people`` and
    ``(c + 1) % people`` as its local speakers 0 and 1; local speaker 2 is silent."""
    rng = np.random.default_rng(seed)
    shared = _unit(rng.normal(size=(1, DIMENSION)))
    centres = _unit(0.5 * shared + _unit(rng.normal(size=(people, DIMENSION))))
    truth = np.full((chunks, 3), UNASSIGNED, dtype=np.int64)
    for c in range(chunks):
        truth[c, 0] = c % people
        truth[c, 1] = (c + 1) % people if people > 1 else UNASSIGNED
    embeddings = np.full((chunks, 3, DIMENSION), np.nan, dtype=np.float32)
    speech_s = np.zeros((chunks, 3), dtype=np.float32)
    for (c, s), person in np.ndenumerate(truth):
        if person >= 0:
            jitter = noise * _unit(rng.normal(size=(1, DIMENSION)))[0]
            embeddings[c, s] = _unit((centres[person] + jitter)[None])[0]
            speech_s[c, s] = 3.0
    return embeddings, speech_s, truth


def _unit(vectors: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)


def _same_partition(found: npt.NDArray[np.int64], truth: npt.NDArray[np.int64]) -> bool:
    """Whether ``found`` groups the local speakers as ``truth`` does (labels aside)."""
    pairs = {(int(f), int(t)) for f, t in zip(found.ravel(), truth.ravel(), strict=True)}
    return len(pairs) == len({f for f, _ in pairs}) == len({t for _, t in pairs})


@pytest.mark.parametrize("people", [2, 3, 5])
def test_a_known_count_separates_the_people(people: int) -> None:
    embeddings, speech_s, truth = _voices(people, 12)
    hard, count = cluster_speakers(embeddings, speech_s, people, 8, SETTINGS)
    assert count == people
    assert _same_partition(hard, truth)


@pytest.mark.parametrize("people", [1, 2, 3, 4])
def test_the_count_is_found(people: int) -> None:
    embeddings, speech_s, truth = _voices(people, 12, seed=people)
    hard, count = cluster_speakers(embeddings, speech_s, None, 8, SETTINGS)
    assert count == people
    assert _same_partition(hard, truth)


def test_the_count_found_is_bounded() -> None:
    embeddings, speech_s, _ = _voices(5, 15)
    hard, count = cluster_speakers(embeddings, speech_s, None, 3, SETTINGS)
    assert count == 3 and hard.max() == 2


def test_two_local_speakers_of_one_chunk_are_never_one_person() -> None:
    embeddings, speech_s, _ = _voices(2, 8)
    embeddings[0, 1] = embeddings[0, 0]  # chunk 0: both sound like the same person
    hard, _ = cluster_speakers(embeddings, speech_s, 2, 8, SETTINGS)
    assert hard[0, 0] != hard[0, 1]


def test_silent_or_unembedded_local_speakers_are_unassigned() -> None:
    embeddings, speech_s, _ = _voices(2, 6)
    embeddings[3, 0] = np.nan  # too little speech to embed
    hard, _ = cluster_speakers(embeddings, speech_s, None, 8, SETTINGS)
    assert (hard[:, 2] == UNASSIGNED).all()
    assert hard[3, 0] == UNASSIGNED and hard[3, 1] >= 0


def test_nothing_embedded_leaves_one_speaker() -> None:
    embeddings = np.full((2, 3, DIMENSION), np.nan, dtype=np.float32)
    speech_s = np.asarray([[0.2, 0.0, 0.0], [0.0, 0.0, 0.0]], dtype=np.float32)
    hard, count = cluster_speakers(embeddings, speech_s, None, 8, SETTINGS)
    assert count == 1
    assert hard.tolist() == [[0, UNASSIGNED, UNASSIGNED], [UNASSIGNED] * 3]


def test_short_local_speakers_are_assigned_but_do_not_shape_the_groups() -> None:
    embeddings, speech_s, truth = _voices(2, 8)
    rng = np.random.default_rng(5)
    embeddings[2, 2] = _unit(rng.normal(size=(1, DIMENSION)))[0]  # a stray voice...
    speech_s[2, 2] = 0.2  # ...heard for 0.2 s
    hard, count = cluster_speakers(embeddings, speech_s, None, 8, SETTINGS)
    assert count == 2
    assert hard[2, 2] >= 0  # given to one of the two people
    assert _same_partition(hard[:, :2], truth[:, :2])


def test_small_groups_join_the_nearest_large_one() -> None:
    embeddings, speech_s, _ = _voices(2, 12)
    rng = np.random.default_rng(9)
    embeddings[5, 2] = _unit(rng.normal(size=(1, DIMENSION)))[0]  # one odd local speaker
    speech_s[5, 2] = 3.0
    _, alone = cluster_speakers(embeddings, speech_s, None, 8, SETTINGS)
    strict = ClusterSettings(SETTINGS.threshold, min_cluster_size=3, min_train_s=0.5)
    _, absorbed = cluster_speakers(embeddings, speech_s, None, 8, strict)
    assert (alone, absorbed) == (3, 2)


def test_thinning_keeps_at_most_so_many_spread_over_the_recording() -> None:
    chosen = np.zeros((100, 3), dtype=bool)
    chosen[:, :2] = True
    thinned = evenly_thinned(chosen, 50)
    assert thinned.sum() == 50 and not (thinned & ~chosen).any()
    kept_chunks = np.flatnonzero(thinned.any(axis=1))
    assert kept_chunks[0] == 0 and kept_chunks[-1] == 99
    assert np.diff(kept_chunks).max() <= 5
    assert evenly_thinned(chosen, 500) is chosen


def test_a_long_recording_is_grouped_from_a_thinned_sample(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past ``MAX_TRAIN`` local speakers, an even sample shapes the groups and every
    local speaker is still assigned (here 600 local speakers, 50 shape the groups)."""
    embeddings, speech_s, truth = _voices(3, 300, seed=4)
    monkeypatch.setattr(clustering, "MAX_TRAIN", 50)
    linked: list[int] = []
    linkage = hierarchy.linkage

    def counted(rows: npt.NDArray[np.float64], **kw: str) -> npt.NDArray[np.float64]:
        linked.append(len(rows))
        return linkage(rows, **kw)  # type: ignore[no-any-return]

    monkeypatch.setattr(hierarchy, "linkage", counted)
    hard, count = cluster_speakers(embeddings, speech_s, None, 8, SETTINGS)
    assert linked == [50]
    assert count == 3
    assert _same_partition(hard, truth)
