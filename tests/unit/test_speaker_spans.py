"""The speaker turns a transcript keeps: diarisation's turns named like the words,
and each channel's speech when channels are recognised separately."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from speech import write_wav
from transcript_samples import make_segment

from dsac_asr import heap
from dsac_asr import pipeline as pipeline_module
from dsac_asr.diarization import SpeakerTurn
from dsac_asr.engines import RecognitionRequest, RecognizedSegment, RecognizedWord
from dsac_asr.models.registry import ModelRegistry
from dsac_asr.pipeline import Pipeline, TranscriptionOptions
from dsac_asr.transcript import SpeakerSpan, Transcript
from dsac_asr.transcript.speaker_spans import channel_turns, named_like_words

RATE_HZ = 16000


def test_turn_labels_take_the_names_their_words_were_given() -> None:
    turns = [
        SpeakerSpan(0.0, 2.0, "B"),
        SpeakerSpan(2.0, 4.0, "A"),
        SpeakerSpan(4.0, 5.0, "B"),
        SpeakerSpan(5.0, 6.0, "C"),  # nobody's words: gets the next free name
    ]
    segments = [
        make_segment([("one", 0.1, 0.5, 1.0), ("two", 0.6, 1.9, 1.0)], "A"),
        make_segment([("three", 2.1, 3.0, 1.0)], "B"),
        make_segment([("four", 4.1, 4.9, 1.0)], "A"),
    ]
    named = named_like_words(turns, segments)
    assert [(t.start_s, t.speaker) for t in named] == [
        (0.0, "A"),
        (2.0, "B"),
        (4.0, "A"),
        (5.0, "C"),
    ]


def test_overlapping_turns_keep_their_own_speakers() -> None:
    turns = [SpeakerSpan(0.0, 4.0, "X"), SpeakerSpan(1.0, 1.5, "Y"), SpeakerSpan(5.0, 6.0, "Y")]
    segments = [
        make_segment([("a", 0.1, 0.4, 1.0), ("b", 2.0, 3.0, 1.0)], "A"),
        make_segment([("c", 5.1, 5.9, 1.0)], "B"),
    ]
    named = named_like_words(turns, segments)
    assert [t.speaker for t in named] == ["A", "B", "B"]


def test_channel_turns_join_a_speakers_words_across_short_pauses() -> None:
    segments = [
        make_segment([("hi", 0.2, 0.5, 1.0), ("there", 0.7, 1.0, 1.0)], "A"),
        make_segment([("yes", 0.9, 1.3, 1.0)], "B"),  # overlaps A
        make_segment([("so", 2.0, 2.4, 1.0)], "A"),  # 1 s after A's last word: a new turn
        make_segment([("ok", 1.7, 1.9, 1.0)], "B"),  # 0.4 s after B's: the same turn
    ]
    assert channel_turns(segments) == (
        SpeakerSpan(0.2, 1.0, "A"),
        SpeakerSpan(0.9, 1.9, "B"),
        SpeakerSpan(2.0, 2.4, "A"),
    )


class TwoChannelEngine:
    """The first call (channel 1) hears two phrases, the second (channel 2) one."""

    sample_rate_hz = RATE_HZ

    def __init__(self) -> None:
        self.calls = 0

    def recognize(
        self,
        samples: npt.NDArray[np.float32],
        request: RecognitionRequest,
        on_progress: Callable[[float], None] | None = None,
    ) -> list[RecognizedSegment]:
        self.calls += 1
        spans = [(0.2, 1.0), (3.0, 3.5)] if self.calls == 1 else [(1.4, 2.6)]
        words = tuple(RecognizedWord("word", start, end, 0.9) for start, end in spans)
        return [RecognizedSegment("word", (w,), request.language) for w in words]


class FixedDiarizer:
    """Finds the same turns in any audio."""

    def __init__(self, turns: list[SpeakerTurn]) -> None:
        self.turns = turns

    def require_installed(self) -> None:
        pass

    def check(self) -> None:
        pass

    def diarize(
        self, samples: object, sample_rate_hz: int, speakers: int | None, max_speakers: int = 8
    ) -> list[SpeakerTurn]:
        return self.turns


class OneVoiceEngine:
    """Hears words at fixed times in any audio."""

    sample_rate_hz = RATE_HZ

    def recognize(
        self,
        samples: npt.NDArray[np.float32],
        request: RecognitionRequest,
        on_progress: Callable[[float], None] | None = None,
    ) -> list[RecognizedSegment]:
        words = tuple(RecognizedWord(f"w{i}", i + 0.1, i + 0.6, 0.9) for i in range(4))
        return [RecognizedSegment("w0 w1 w2 w3", words, request.language)]


@pytest.fixture
def stereo(tmp_path: Path) -> Path:
    noise = np.random.default_rng(0).normal(0, 0.01, (2, RATE_HZ * 4)).astype(np.float32)
    return write_wav(tmp_path / "call.wav", [noise[0], noise[1]], RATE_HZ)


def _pipeline(tmp_path: Path, engine: Any) -> Pipeline:
    registry = ModelRegistry(tmp_path / "models")
    return Pipeline(registry=registry, engine_for=lambda model, options: engine)


def _transcribe(pipeline: Pipeline, path: Path, **options: Any) -> Transcript:
    chosen = TranscriptionOptions(model="whisper-tiny.en", punctuate=False, **options)
    return pipeline.transcribe(path, chosen)


def test_separate_channels_keep_each_channels_speech_as_turns(tmp_path: Path, stereo: Path) -> None:
    transcript = _transcribe(_pipeline(tmp_path, TwoChannelEngine()), stereo, channels="separate")
    assert transcript.speaker_turns == (
        SpeakerSpan(0.2, 1.0, "A"),
        SpeakerSpan(1.4, 2.6, "B"),
        SpeakerSpan(3.0, 3.5, "A"),
    )


def test_mixed_audio_without_diarisation_has_no_turns(tmp_path: Path, stereo: Path) -> None:
    transcript = _transcribe(_pipeline(tmp_path, OneVoiceEngine()), stereo, channels="mix")
    assert transcript.speaker_turns is None


def test_diarised_turns_are_kept_named_like_the_words(tmp_path: Path, stereo: Path) -> None:
    found = [SpeakerTurn(0.0, 1.9, "B"), SpeakerTurn(2.0, 3.9, "A"), SpeakerTurn(1.5, 1.8, "A")]
    pipeline = replace(_pipeline(tmp_path, OneVoiceEngine()), diarizer=FixedDiarizer(found))
    transcript = _transcribe(pipeline, stereo, channels="mix", diarize=True)
    assert [w.speaker for w in transcript.words] == ["A", "A", "B", "B"]
    assert transcript.speaker_turns == (
        SpeakerSpan(0.0, 1.9, "A"),
        SpeakerSpan(1.5, 1.8, "B"),
        SpeakerSpan(2.0, 3.9, "B"),
    )
    assert transcript.metadata["speakers"] == "2"


_MAPPED = [heap.MMAP_THRESHOLD_BYTES, "diarize", "recognize", heap.SETTLED_THRESHOLD_BYTES]


@pytest.mark.parametrize(
    ("long_from_s", "expected"),
    [(0.0, _MAPPED), (3600.0, ["diarize", "recognize"])],  # 0: a 4 s recording is long
)
def test_long_diarised_recordings_keep_large_blocks_mapped(
    tmp_path: Path,
    stereo: Path,
    monkeypatch: pytest.MonkeyPatch,
    mmap_thresholds: list[object],
    long_from_s: float,
    expected: list[object],
) -> None:
    steps = mmap_thresholds
    monkeypatch.setattr(pipeline_module, "MAPPED_FROM_S", long_from_s)

    class RecordedDiarizer(FixedDiarizer):
        def diarize(self, *args: Any, **kwargs: Any) -> list[SpeakerTurn]:
            steps.append("diarize")
            return self.turns

    class RecordedEngine(OneVoiceEngine):
        def recognize(self, *args: Any, **kwargs: Any) -> list[RecognizedSegment]:
            steps.append("recognize")
            return super().recognize(*args, **kwargs)

    found = [SpeakerTurn(0.0, 3.9, "A")]
    pipeline = replace(_pipeline(tmp_path, RecordedEngine()), diarizer=RecordedDiarizer(found))
    _transcribe(pipeline, stereo, channels="mix", diarize=True)
    assert steps == expected
