"""Batched Whisper decoding against sequential decoding, on speech the tests make.

About 60 s of three flite voices in three runs separated by long pauses; the
middle run is longer than one 30 s window, so it is split.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

import jiwer
import numpy as np
import numpy.typing as npt
import pytest
from speech import SENTENCES, concatenate_speech, normalize_text

from dsac_asr.engines import EngineOptions, RecognizedWord, load_engine
from dsac_asr.engines import whisper as whisper_module
from dsac_asr.engines.base import RecognitionRequest
from dsac_asr.engines.whisper import WhisperEngine, WhisperOptions
from dsac_asr.errors import DecodeTimeoutError
from dsac_asr.models.bundled import bundled_models

pytestmark = pytest.mark.integration

RATE = 16000
VOICES = ("slt", "rms", "awb")
RUNS = ((0, 4), (4, 15), (15, 18))
PAUSE_S = 3.0
ENGLISH = RecognitionRequest(language="eng")


@dataclass(frozen=True)
class Speech:
    """Test audio, its text and each spoken line's (start_s, end_s)."""

    samples: npt.NDArray[np.float32]
    reference: str
    spans: list[tuple[float, float]]


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Speech:
    folder = tmp_path_factory.mktemp("batched")
    pieces: list[npt.NDArray[np.float32]] = []
    spans: list[tuple[float, float]] = []
    offset_s = 0.0
    for first, last in RUNS:
        lines = [(VOICES[i % len(VOICES)], SENTENCES[i]) for i in range(first, last)]
        audio, run_spans = concatenate_speech(folder, lines, RATE)
        spans += [(offset_s + start, offset_s + end) for start, end in run_spans]
        pieces += [audio, np.zeros(int(PAUSE_S * RATE), np.float32)]
        offset_s += len(audio) / RATE + PAUSE_S
    return Speech(np.concatenate(pieces), " ".join(SENTENCES[:18]), spans)


def _engine(batch_size: int) -> WhisperEngine:
    model = next(m for m in bundled_models() if m.id == "whisper-base")
    engine = load_engine(model, EngineOptions(batch_size=batch_size))
    assert isinstance(engine, WhisperEngine)
    return engine


@dataclass(frozen=True)
class Result:
    """One recognition: its words, segment texts and progress reports."""

    words: list[RecognizedWord]
    texts: list[str]
    progress: list[float]


def _recognize(speech: Speech, batch_size: int) -> Result:
    progress: list[float] = []
    segments = _engine(batch_size).recognize(speech.samples, ENGLISH, progress.append)
    words = [word for segment in segments for word in segment.words]
    return Result(words, [segment.text for segment in segments], progress)


@pytest.fixture(scope="module")
def sequential(speech: Speech) -> Result:
    return _recognize(speech, 1)


@pytest.fixture(scope="module")
def batched(speech: Speech) -> Result:
    return _recognize(speech, 4)


def _wer(reference: str, result: Result) -> float:
    hypothesis = normalize_text(" ".join(w.text for w in result.words))
    return float(jiwer.wer(normalize_text(reference), hypothesis))


def test_batched_is_about_as_accurate_as_sequential(
    speech: Speech, sequential: Result, batched: Result
) -> None:
    batched_wer = _wer(speech.reference, batched)
    sequential_wer = _wer(speech.reference, sequential)
    assert batched_wer <= 0.10, f"batched WER {batched_wer:.2%}"
    assert batched_wer <= sequential_wer + 0.03, f"{batched_wer:.2%} vs {sequential_wer:.2%}"


def test_batched_words_are_ordered_and_inside_what_was_said(
    speech: Speech, batched: Result
) -> None:
    words = batched.words
    duration_s = len(speech.samples) / RATE
    assert all(0.0 <= w.start_s <= w.end_s <= duration_s for w in words)
    assert [w.start_s for w in words] == sorted(w.start_s for w in words)
    assert all(0.0 <= w.confidence <= 1.0 for w in words)
    starts = [start for start, _end in speech.spans]
    for word in words:
        start, end = speech.spans[max(0, bisect.bisect_right(starts, word.start_s + 0.3) - 1)]
        assert start - 0.5 <= word.start_s and word.end_s <= end + 0.5, word


def _norm(text: str) -> str:
    return str(normalize_text(text)).replace(" ", "")


def _nearest_match_s(word: RecognizedWord, others: list[RecognizedWord]) -> float | None:
    """How far ``word``'s start is from the nearest same word in ``others`` (within 2 s)."""
    gaps = [
        abs(other.start_s - word.start_s)
        for other in others
        if _norm(other.text) == _norm(word.text) and abs(other.start_s - word.start_s) < 2.0
    ]
    return min(gaps, default=None)


def test_batched_word_times_match_sequential_ones(sequential: Result, batched: Result) -> None:
    gaps = [g for w in batched.words if (g := _nearest_match_s(w, sequential.words)) is not None]
    assert len(gaps) >= 0.9 * len(batched.words)
    close = sum(gap <= 0.3 for gap in gaps)
    assert close >= 0.95 * len(gaps), sorted(gaps)[-10:]


def test_batched_progress_rises_per_window_to_one(
    batched: Result,
) -> None:
    progress = batched.progress
    assert len(progress) >= 3
    assert progress == sorted(progress) and progress[-1] == 1.0


def test_batched_windows_come_back_as_sentences(
    batched: Result,
) -> None:
    texts = batched.texts
    assert len(texts) >= 15
    assert all(text.endswith((".", "?", "!")) for text in texts[:-1])


def test_batched_silence_gives_no_words() -> None:
    assert _engine(4).recognize(np.zeros(90 * RATE, np.float32), ENGLISH) == []


def test_batched_decoding_keeps_its_time_budget(
    speech: Speech, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = _engine(4)
    monkeypatch.setattr(whisper_module, "_MIN_BUDGET_S", 0.0)
    monkeypatch.setattr(engine, "options", WhisperOptions(batch_size=4, budget_factor=1e-6))
    with pytest.raises(DecodeTimeoutError):
        engine.recognize(speech.samples, ENGLISH)


def test_windows_decoded_a_group_at_a_time_give_the_same_words(
    speech: Speech, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Groups of whole batches (each given only its own audio) decode as one call would."""
    monkeypatch.setattr(whisper_module, "WINDOW_S", 10.0)  # more windows, so more groups
    at_once = _recognize(speech, 2)
    monkeypatch.setattr(whisper_module, "GROUP_WINDOWS", 1)
    groups: list[int] = []
    decode_group = WhisperEngine._decode_group

    def counted(self: WhisperEngine, *args: Any) -> Any:
        groups.append(len(args[2]))
        return decode_group(self, *args)

    monkeypatch.setattr(WhisperEngine, "_decode_group", counted)
    grouped = _recognize(speech, 2)
    assert len(groups) >= 3 and groups[:2] == [1, 2], groups  # the first window, then pairs
    assert [w.text for w in grouped.words] == [w.text for w in at_once.words]
    moved = [
        (a.text, a.start_s, b.start_s, a.end_s, b.end_s)
        for a, b in zip(grouped.words, at_once.words, strict=True)
        if abs(a.start_s - b.start_s) > 0.02 or abs(a.end_s - b.end_s) > 0.02
    ]
    assert not moved, moved


def test_sequential_pieces_keep_words_and_times(
    speech: Speech, sequential: Result, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sequential decoding cut into pieces of collapsed speech (here 20 s, so every run is
    cut at a pause) stays about as accurate, its words inside what was said."""
    monkeypatch.setattr(whisper_module, "PIECE_S", 20.0)
    pieces = _recognize(speech, 1)
    assert _wer(speech.reference, pieces) <= _wer(speech.reference, sequential) + 0.05
    starts = [start for start, _end in speech.spans]
    for word in pieces.words:
        start, end = speech.spans[max(0, bisect.bisect_right(starts, word.start_s + 0.3) - 1)]
        assert start - 0.5 <= word.start_s and word.end_s <= end + 0.5, word
