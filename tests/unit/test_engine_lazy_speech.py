"""Collapsed speech built a slice at a time, and batched Whisper decoding that hands
faster-whisper one group of windows (and only that group's audio) at a time. The
pipeline here is a fake that names each window by the sample it starts at, so the
test sees exactly which audio reached it and where its words landed."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from faster_whisper.transcribe import Segment, Word

from dsac_asr.engines import whisper as whisper_module
from dsac_asr.engines.base import RecognitionRequest
from dsac_asr.engines.regions import GAP_S, Region, collapse
from dsac_asr.engines.whisper import SAMPLE_RATE_HZ, WhisperEngine, WhisperOptions

RATE = SAMPLE_RATE_HZ


def _eager_collapse(samples: npt.NDArray[np.float32], regions: list[Region]) -> npt.NDArray[Any]:
    """What ``collapse`` built in one array before it became lazy."""
    gap = np.zeros(int(GAP_S * RATE), np.float32)
    pieces: list[npt.NDArray[np.float32]] = []
    for region in regions:
        pieces += [gap] if pieces else []
        pieces.append(samples[region.start : region.end])
    return np.concatenate(pieces)


def test_collapsed_slices_equal_the_regions_joined_with_gaps() -> None:
    samples = np.arange(1, 20 * RATE + 1, dtype=np.float32)
    regions = [Region(RATE, 3 * RATE), Region(5 * RATE, 6 * RATE), Region(10 * RATE, 19 * RATE)]
    collapsed = collapse(samples, regions, RATE)
    whole = _eager_collapse(samples, regions)
    assert collapsed.source is samples
    assert collapsed.length == len(whole)
    gap = int(GAP_S * RATE)
    edges = [0, 2 * RATE, 2 * RATE + gap, 3 * RATE + gap, 3 * RATE + 2 * gap, collapsed.length]
    cuts = sorted({max(0, e + d) for e in edges for d in (-1, 0, 1)})
    for start in cuts:
        for end in cuts:
            assert np.array_equal(collapsed.slice(start, end), whole[start:end]), (start, end)
    assert np.array_equal(collapsed.samples, whole)


@dataclass
class FakePipeline:
    """Stands in for ``BatchedInferencePipeline``: one segment per clip, whose one word
    spans the clip and is named by the sample value (the original index) at its start."""

    calls: list[tuple[int, int, int]]

    def transcribe(
        self, audio: npt.NDArray[np.float32], clip_timestamps: list[dict[str, float]], **kw: Any
    ) -> tuple[Iterator[Segment], None]:
        self.calls.append((len(audio), len(clip_timestamps), int(kw["batch_size"])))
        return (self._segment(audio, c) for c in clip_timestamps), None

    @staticmethod
    def _segment(audio: npt.NDArray[np.float32], clip: dict[str, float]) -> Segment:
        first = int(audio[round(clip["start"] * RATE)])
        word = Word(clip["start"], clip["end"], f"at{first}", 0.9)
        return Segment(0, 0, clip["start"], clip["end"], word.word, [], 0, 1, 0, [word], 0)


def _engine(batch_size: int, regions: list[Region], calls: list[tuple[int, int, int]]) -> Any:
    engine = WhisperEngine.__new__(WhisperEngine)
    engine.options = WhisperOptions(batch_size=batch_size)
    engine._speech_regions = lambda samples: regions  # type: ignore[method-assign]
    engine._language_for = lambda request: request.language  # type: ignore[method-assign]
    engine._settings = lambda language, request: {}  # type: ignore[method-assign]
    engine._pipeline = lambda: FakePipeline(calls)  # type: ignore[method-assign]
    return engine


def test_batched_whisper_decodes_a_group_of_windows_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(whisper_module, "GROUP_WINDOWS", 3)
    samples = np.arange(1, 700 * RATE + 1, dtype=np.float32)  # exact integers up to 2**24
    regions = [Region(s * RATE, (s + 25) * RATE) for s in range(0, 700, 35)]  # 20 windows
    calls: list[tuple[int, int, int]] = []
    segments = _engine(2, regions, calls).recognize(samples, RecognitionRequest("eng"))
    words = [word for segment in segments for word in segment.words]
    assert [w.text for w in words] == [f"at{r.start + 1}" for r in regions]
    assert [(w.start_s, w.end_s) for w in words] == [
        (r.start / RATE, r.end / RATE) for r in regions
    ]
    # the first window alone, then groups of 4 windows (3 rounded up to whole batches of 2)
    assert [(count, batch) for _length, count, batch in calls] == [(1, 1)] + [(4, 2)] * 4 + [(3, 2)]
    gap = int(GAP_S * RATE)
    assert max(length for length, _count, _batch in calls) == 4 * 25 * RATE + 3 * gap


def test_batched_whisper_never_holds_a_copy_of_the_speech() -> None:
    """2 h of speech (460 MB): recognising it allocates a group's audio at a time
    (32 windows, about 52 MB here), never a second copy of the whole."""
    samples = np.ones(2 * 3600 * RATE, dtype=np.float32)
    regions = [Region(s * RATE, (s + 25) * RATE) for s in range(0, 7200 - 25, 30)]
    engine = _engine(4, regions, [])
    tracemalloc.start()
    try:
        segments = engine.recognize(samples, RecognitionRequest("eng"))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(segments) == len(regions)
    assert peak < 0.15 * samples.nbytes, f"{peak / 1e6:.0f} MB"


def test_sequential_whisper_decodes_pieces_of_the_collapsed_speech(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(whisper_module, "PIECE_S", 60.0)
    samples = np.arange(1, 200 * RATE + 1, dtype=np.float32)
    regions = [Region(s * RATE, (s + 25) * RATE) for s in range(0, 200, 40)]  # 5 regions
    calls: list[tuple[int, int, int]] = []
    engine = _engine(1, regions, calls)
    pieces: list[int] = []

    def transcribe(audio: npt.NDArray[np.float32], **kw: Any) -> tuple[Iterator[Segment], None]:
        pieces.append(len(audio))
        starts = [0.0] + [
            (i + 1) * (25 + GAP_S) for i in range(len(audio) // int((25 + GAP_S) * RATE))
        ]
        clips = [{"start": s, "end": s + 25.0} for s in starts if s * RATE < len(audio)]
        return (FakePipeline._segment(audio, c) for c in clips), None

    engine._model = type("Model", (), {"transcribe": staticmethod(transcribe)})()
    segments = engine.recognize(samples, RecognitionRequest("eng"))
    words = [word for segment in segments for word in segment.words]
    assert [w.text for w in words] == [f"at{r.start + 1}" for r in regions]
    assert [w.start_s for w in words] == [r.start / RATE for r in regions]
    gap = int(GAP_S * RATE)
    assert pieces == [2 * 25 * RATE + gap, 2 * 25 * RATE + gap, 25 * RATE]
