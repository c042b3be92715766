"""CAM++ embeddings in batches: pieces of one length share a forward pass and get the
embeddings they get one by one; how much of a local speaker's speech is embedded
(a randomly initialised CAM++, made-up filterbanks and segmentations)."""

from __future__ import annotations

import tracemalloc
from typing import Any

import numpy as np
import pytest

from dsac_asr.diarization import embeddings
from dsac_asr.diarization.embeddings import (
    BATCH,
    BATCH_FRAMES,
    DIMENSION,
    MEL_BINS,
    SelectionLimits,
    SpeakerEmbedder,
    frame_blocks,
    local_speaker_frames,
    same_length_batches,
)
from dsac_asr.diarization.runtime import Floats, torch_runner
from dsac_asr.diarization.segmentation import Segmentation


def _frames(*lengths: int) -> list[np.ndarray[Any, np.dtype[np.int64]]]:
    return [np.arange(length, dtype=np.int64) for length in lengths]


def test_batches_group_equal_lengths_longest_first_and_skip_short_pieces() -> None:
    selections = _frames(50, 20, 50, 5, 20, 0, 50)
    assert same_length_batches(selections) == [[0, 2, 6], [1, 4]]


def test_batches_hold_at_most_batch_pieces() -> None:
    batches = same_length_batches(_frames(*([30] * (BATCH + 3))))
    assert [len(rows) for rows in batches] == [BATCH, 3]
    assert sorted(row for rows in batches for row in rows) == list(range(BATCH + 3))


def test_batches_of_long_pieces_hold_at_most_batch_frames() -> None:
    batches = same_length_batches(_frames(*([1000] * 5), 3000, 3000))
    assert [len(rows) for rows in batches] == [1, 1, 2, 2, 1]
    assert all(len(rows) * 1000 <= BATCH_FRAMES for rows in batches[2:])


@pytest.fixture(scope="module")
def campplus() -> Any:
    torch = pytest.importorskip("torch")
    from senko.camplusplus import CAMPPlus

    torch.manual_seed(0)
    model = CAMPPlus(feat_dim=MEL_BINS, embedding_size=DIMENSION)
    model.eval()
    return torch_runner(model, torch)


def test_batched_embeddings_equal_one_by_one_embeddings(campplus: Any) -> None:
    calls: list[tuple[int, ...]] = []

    def counted(features: Floats) -> Floats:
        calls.append(features.shape)
        return campplus(features)  # type: ignore[no-any-return]

    rng = np.random.default_rng(1)
    filterbank = rng.normal(size=(600, MEL_BINS)).astype(np.float32)
    selections = [
        np.arange(0, 120),
        np.arange(200, 320),
        np.concatenate([np.arange(10, 40), np.arange(400, 490)]),  # 120 frames, two stretches
        np.arange(300, 380),
        np.arange(500, 505),  # too short: no embedding
    ]
    batched = SpeakerEmbedder(counted).embed(filterbank, selections)
    assert sorted(calls) == [(1, 80, MEL_BINS), (3, 120, MEL_BINS)]
    alone = SpeakerEmbedder(campplus)
    for row, frames in enumerate(selections[:4]):
        expected = alone.embed(filterbank, [frames])[0]
        assert np.allclose(batched[row], expected, atol=1e-4), row
    assert np.isnan(batched[4]).all()
    # mean-normalised per piece: a constant offset on the filterbank changes nothing
    shifted = SpeakerEmbedder(campplus).embed(filterbank + 3.0, selections)
    assert np.allclose(shifted[:4], batched[:4], atol=1e-4)


def _one_chunk(talking: slice, frames: int = 100) -> Segmentation:
    chunk = np.zeros((frames, 3), dtype=np.float32)
    chunk[talking, 0] = 1
    return Segmentation(chunk[None], np.asarray([0]), 0.1, 0.1, frames)


def test_without_limits_all_clean_speech_is_embedded() -> None:
    seg = _one_chunk(slice(0, 100))  # 10 s of one speaker
    first, _, _ = local_speaker_frames(seg, 1000, min_clean_s=0.5)
    assert len(first) >= 995  # the last filterbank frames fall just past the chunk


def test_at_most_so_much_speech_is_embedded_nearest_the_chunk_middle() -> None:
    seg = _one_chunk(slice(0, 100))
    first, _, _ = local_speaker_frames(seg, 1000, 0.5, SelectionLimits(most_s=2.0))
    assert len(first) == 200
    assert first.min() * 0.01 == pytest.approx(4.0, abs=0.02)
    assert first.max() * 0.01 == pytest.approx(6.0, abs=0.02)
    assert (np.diff(first) == 1).all()


def test_the_middle_window_is_used_only_when_it_holds_enough_speech() -> None:
    limits = SelectionLimits(middle_s=4.0)
    middle, _, _ = local_speaker_frames(_one_chunk(slice(0, 100)), 1000, 0.5, limits)
    assert middle.min() * 0.01 == pytest.approx(3.0, abs=0.06)
    assert middle.max() * 0.01 == pytest.approx(7.0, abs=0.06)
    edge, _, _ = local_speaker_frames(_one_chunk(slice(0, 20)), 1000, 0.5, limits)
    assert edge.min() == 0 and edge.max() * 0.01 == pytest.approx(2.0, abs=0.03)


def test_frame_blocks_gather_neighbours_within_the_limit() -> None:
    selections = [
        np.arange(0, 50),
        np.arange(40, 90),
        np.arange(0, 0),  # empty: in no block
        np.arange(120, 160),
        np.arange(300, 500),  # longer than the limit: alone
        np.arange(480, 520),
    ]
    assert frame_blocks(selections, 100) == [
        ([0, 1], 0, 90),
        ([3], 120, 160),
        ([4], 300, 500),
        ([5], 480, 520),
    ]


def test_embedding_block_by_block_equals_embedding_the_whole_filterbank(
    campplus: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(2)
    audio = (0.1 * rng.normal(size=8 * 16000)).astype(np.float32)
    selections = [np.arange(s, s + 150) for s in range(0, 640, 70)] + [np.arange(700, 705)]
    embedder = SpeakerEmbedder(campplus)
    whole = embedder.embed(embedder.filterbank(audio), selections)
    monkeypatch.setattr(embeddings, "BLOCK_FRAMES", 200)
    blocks = embedder.embed_audio(audio, selections)
    assert len(frame_blocks(selections, 200)) >= 4
    assert np.allclose(blocks[:-1], whole[:-1], atol=1e-5)
    assert np.isnan(blocks[-1]).all() and np.isnan(whole[-1]).all()


def test_a_long_recordings_filterbank_is_never_held_whole() -> None:
    """1 h of audio: its whole filterbank is 115 MB; embedding makes 10 min at a time."""
    audio = np.zeros(3600 * 16000, dtype=np.float32)
    selections = [np.arange(s, s + 300) for s in range(0, 360_000 - 1000, 500)]

    def constant(features: Floats) -> Floats:
        return np.ones((len(features), DIMENSION), dtype=np.float32)

    tracemalloc.start()
    try:
        found = SpeakerEmbedder(constant).embed_audio(audio, selections)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert found.shape == (len(selections), DIMENSION) and (found == 1).all()
    assert peak < 100e6, f"{peak / 1e6:.0f} MB"
