"""Multilingual (``mul``) recognition on made speech: each region in its own language.

whisper-base does not identify espeak-ng's Afrikaans voice as Afrikaans (it
hears English, Latin, German or Thai; see ``bench/multilingual.py``), so the
English/Afrikaans file checks what must hold whatever the model hears, and
the per-region accuracy is checked on English alternating with espeak-ng's
German, which whisper-base does identify, given to the engine as candidates.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from multilingual_speech import Alternation, accuracy, alternate, region_languages, segment_words
from speech import write_wav

from dsac_asr.engines import EngineOptions, RecognitionRequest, load_engine
from dsac_asr.engines.base import RecognizedSegment
from dsac_asr.models.bundled import bundled_models
from dsac_asr.models.registry import ModelRegistry
from dsac_asr.pipeline import Pipeline, TranscriptionOptions
from dsac_asr.transcript import Transcript

pytestmark = pytest.mark.integration

RATE = 16000


@pytest.fixture(scope="module")
def english_afrikaans(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Alternation]:
    folder = tmp_path_factory.mktemp("eng-afr")
    speech = alternate(folder, "afr", 6, RATE)
    return write_wav(folder / "eng-afr.wav", [speech.samples], RATE), speech


@pytest.fixture(scope="module")
def mul_transcript(
    english_afrikaans: tuple[Path, Alternation], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Transcript, list[float]]:
    pipeline = Pipeline(registry=ModelRegistry(tmp_path_factory.mktemp("models")))
    progress: list[float] = []
    path, _speech = english_afrikaans
    return pipeline.transcribe(
        path, TranscriptionOptions(language="mul"), progress.append
    ), progress


def test_mul_words_carry_languages_of_the_set_only(
    mul_transcript: tuple[Transcript, list[float]],
) -> None:
    transcript, _progress = mul_transcript
    languages = {w.language or "none" for w in transcript.words}
    assert transcript.words and languages <= {"eng", "afr"}
    assert transcript.metadata["languages_found"] == ",".join(sorted(languages))
    assert transcript.language == (languages.pop() if len(languages) == 1 else "mul")


def test_mul_finds_every_english_region(
    english_afrikaans: tuple[Path, Alternation], mul_transcript: tuple[Transcript, list[float]]
) -> None:
    _path, speech = english_afrikaans
    transcript, _progress = mul_transcript
    words = [(w.start_s, w.end_s, w.language) for w in transcript.words]
    found = region_languages(speech.spans, words)
    english = [f for f, e in zip(found, speech.languages, strict=True) if e == "eng"]
    assert english == ["eng"] * len(english), found


def test_mul_words_are_in_time_order_and_progress_reaches_one(
    mul_transcript: tuple[Transcript, list[float]],
) -> None:
    transcript, progress = mul_transcript
    starts = [w.start_s for w in transcript.words]
    assert starts == sorted(starts)
    assert progress == sorted(progress) and progress[-1] == 1.0


@pytest.fixture(scope="module")
def english_german(tmp_path_factory: pytest.TempPathFactory) -> Alternation:
    return alternate(tmp_path_factory.mktemp("eng-deu"), "deu", 10, RATE)


def _recognize(speech: Alternation, batch_size: int) -> list[RecognizedSegment]:
    model = next(m for m in bundled_models() if m.id == "whisper-base")
    engine = load_engine(model, EngineOptions(batch_size=batch_size))
    request = RecognitionRequest("mul", candidate_languages=("eng", "deu"))
    return engine.recognize(speech.samples, request)


@pytest.mark.parametrize("batch_size", [1, 4], ids=["sequential", "batched"])
def test_mul_identifies_most_regions_and_decodes_each_in_its_language(
    english_german: Alternation, batch_size: int
) -> None:
    segments = _recognize(english_german, batch_size)
    found = region_languages(english_german.spans, segment_words(segments))
    assert accuracy(english_german.languages, found) >= 0.7, found
    assert {s.language for s in segments} == {"eng", "deu"}
    german = " ".join(s.text for s in segments if s.language == "deu").lower()
    assert sum(word in german for word in ("die", "und", "der", "mit")) >= 3, german
    starts = [w.start_s for s in segments for w in s.words]
    assert starts == sorted(starts)
    duration_s = len(english_german.samples) / RATE
    assert all(0 <= w.start_s <= w.end_s <= duration_s for s in segments for w in s.words)
