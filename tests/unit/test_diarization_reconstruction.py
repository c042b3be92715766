"""From chunks' local speakers to speaker turns: counts, overlap, smoothing, and
which filterbank frames each local speaker is embedded on (made-up segmentations)."""

from __future__ import annotations

import numpy as np
import pytest

from dsac_asr.diarization.embeddings import local_speaker_frames
from dsac_asr.diarization.reconstruction import (
    clustered_activity,
    frame_speakers,
    runs,
    smoothed,
    speaker_count,
    to_turns,
)
from dsac_asr.diarization.segmentation import Segmentation, chunk_starts, powerset_mapping
from dsac_asr.diarization.windows import SpeakerTurn

STEP_S = 0.1  # frames 0.1 s apart, to keep times readable


def _segmentation(activity: list[list[list[int]]], offsets: list[int]) -> Segmentation:
    data = np.asarray(activity, dtype=np.float32)
    frames = int(max(offsets)) + data.shape[1]
    return Segmentation(data, np.asarray(offsets), STEP_S, STEP_S, frames)


def test_the_powerset_classes_are_silence_singles_then_pairs() -> None:
    assert powerset_mapping().tolist() == [
        [0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1], [0, 1, 1],
    ]  # fmt: skip


def test_chunks_cover_the_recording_and_the_last_ends_at_its_end() -> None:
    assert chunk_starts(100, 40, 25) == [0, 25, 50, 60]
    assert chunk_starts(30, 40, 25) == [0]  # shorter than a chunk: one (padded) chunk
    assert chunk_starts(90, 40, 25) == [0, 25, 50]


def test_the_speaker_count_is_the_mean_over_overlapping_chunks() -> None:
    # two chunks of 4 frames overlapping on frames 2-3; both hear one speaker there
    seg = _segmentation(
        [
            [[1, 0, 0], [1, 1, 0], [1, 0, 0], [0, 0, 0]],
            [[1, 0, 0], [0, 0, 0], [0, 1, 1], [0, 0, 1]],
        ],
        [0, 2],
    )
    assert speaker_count(seg).tolist() == [1, 2, 1, 0, 2, 1]


def test_each_frame_keeps_its_count_of_the_most_active_speakers() -> None:
    activity = np.asarray([[0.9, 0.2, 0.0], [0.6, 0.7, 0.1], [0.1, 0.0, 0.0]], dtype=np.float32)
    binary = frame_speakers(activity, np.asarray([1, 2, 0]))
    assert binary.tolist() == [[True, False, False], [True, True, False], [False] * 3]


def test_local_speakers_map_onto_global_ones() -> None:
    seg = _segmentation([[[1, 0, 0], [1, 1, 0]], [[0, 1, 0], [0, 1, 0]]], [0, 1])
    hard = np.asarray([[1, 0, -2], [1, -2, -2]])  # chunk 1's local speaker 1 is unused
    activity = clustered_activity(seg, hard, 2)
    assert activity.shape == (3, 2)
    assert activity[0].tolist() == [0.0, 1.0]  # only chunk 0 covers frame 0
    assert activity[2].tolist() == [0.0, 0.0]


def test_runs_and_smoothing() -> None:
    assert runs(np.asarray([0, 1, 1, 0, 1], dtype=bool)) == [(1, 3), (4, 5)]
    spans = [(0.0, 1.0), (1.05, 2.0), (3.0, 3.05), (4.0, 5.0)]
    assert smoothed(spans, min_off_s=0.1, min_on_s=0.1) == [(0.0, 2.0), (4.0, 5.0)]


def test_overlapping_speech_gives_overlapping_turns_labelled_in_order() -> None:
    seg = _segmentation([[[0, 0, 0]] * 10], [0])
    binary = np.zeros((10, 2), dtype=bool)
    binary[5:10, 0] = True  # the second cluster speaks first
    binary[0:7, 1] = True
    turns = to_turns(binary, seg, duration_s=1.0, min_off_s=0.0, min_on_s=0.0)
    assert turns == [SpeakerTurn(0.0, pytest.approx(0.7), "A"), SpeakerTurn(0.5, 1.0, "B")]


def test_local_speakers_are_embedded_on_their_speech_without_overlap() -> None:
    # one chunk of 10 frames (0.1 s each): speaker 0 talks in frames 0-5, speaker 1 in 4-9
    chunk = np.zeros((10, 3), dtype=np.float32)
    chunk[0:6, 0] = 1
    chunk[4:10, 1] = 1
    seg = Segmentation(chunk[None], np.asarray([0]), 0.1, 0.1, 10)
    first, second, silent = local_speaker_frames(seg, 100, min_clean_s=0.3)
    times = lambda frames: (frames.min() * 0.01, frames.max() * 0.01)  # noqa: E731
    # filterbank frames (10 ms apart, centred 12.5 ms in) whose centre lies in those frames
    assert times(first) == pytest.approx((0.0, 0.38))  # clean: frames 0-3, 0 to 0.4 s
    assert times(second) == pytest.approx((0.59, 0.98))  # clean: frames 6-9, 0.6 to 1.0 s
    assert len(silent) == 0
    _, second_all, _ = local_speaker_frames(seg, 100, min_clean_s=0.5)
    assert second_all.min() * 0.01 == pytest.approx(0.39)  # too little clean speech: from 0.4 s
