"""The pipeline restores punctuation only for engines that write none, only when asked."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from speech import write_wav

import dsac_asr.pipeline as pipeline_module
from dsac_asr.engines import RecognitionRequest, RecognizedSegment, RecognizedWord
from dsac_asr.models.registry import ModelRegistry
from dsac_asr.pipeline import Pipeline, TranscriptionOptions
from dsac_asr.transcript.truecasing import RuleCaser

SPOKEN = "the a n c met the sabc in durban | we spoke to the d s a c team"


class LowerCaseEngine:
    """Recognises any audio as ``SPOKEN``: lower-case words, letters one by one, no marks."""

    sample_rate_hz = 16000

    def recognize(
        self,
        samples: npt.NDArray[np.float32],
        request: RecognitionRequest,
        on_progress: Callable[[float], None] | None = None,
    ) -> list[RecognizedSegment]:
        words, t = [], 0.2
        for token in SPOKEN.split():
            if token == "|":
                t += 0.7
                continue
            words.append(RecognizedWord(token, round(t, 2), round(t + 0.25, 2), 0.9))
            t += 0.3
        return [RecognizedSegment(" ".join(w.text for w in words), tuple(words), request.language)]


def _model(models_dir: Path, model_id: str, engine: str, **extra: Any) -> None:
    folder = models_dir / model_id
    folder.mkdir(parents=True)
    manifest = {"id": model_id, "engine": engine, "languages": ["eng"], "band": "bb", **extra}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


@pytest.fixture
def models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "models"
    _model(folder, "kaldi-eng", "kaldi", priority=10)
    _model(folder, "whisper-like", "whisper")
    _model(folder, "kaldi-punctuated", "kaldi", punctuated=True)
    monkeypatch.setattr(pipeline_module, "caser_for", lambda language: RuleCaser(english=True))
    return folder


@pytest.fixture
def audio(tmp_path: Path) -> Path:
    noise = np.random.default_rng(0).normal(0, 0.01, 16000 * 6).astype(np.float32)
    return write_wav(tmp_path / "speech.wav", [noise], 16000)


def _transcribe(models_dir: Path, audio: Path, model_id: str, punctuate: bool = True) -> Any:
    registry = ModelRegistry(models_dir, include_bundled=False)
    pipeline = Pipeline(registry=registry, engine_for=lambda model, options: LowerCaseEngine())
    options = TranscriptionOptions(model=model_id, punctuate=punctuate)
    return pipeline.transcribe(audio, options)


def test_kaldi_output_gets_sentences_casing_and_joined_acronyms(models_dir: Path, audio: Path):
    (models_dir / "spellings.txt").write_text("DSAC\n", encoding="utf-8")
    transcript = _transcribe(models_dir, audio, "kaldi-eng")
    assert transcript.text == "The ANC met the SABC in Durban. We spoke to the DSAC team."
    words = transcript.words
    assert (words[1].text, words[1].start_s, words[1].end_s) == ("ANC", 0.5, 1.35)
    starts = [w.start_s for w in words]
    assert starts == sorted(starts)
    assert all(w.start_s < w.end_s for w in words)
    assert transcript.metadata["punctuation"] == "restored (pauses, rules casing)"


def test_no_punctuate_gives_lower_case_words_without_marks(models_dir: Path, audio: Path):
    transcript = _transcribe(models_dir, audio, "kaldi-eng", punctuate=False)
    assert transcript.text == SPOKEN.replace(" |", "")
    assert transcript.text == transcript.text.lower()
    assert not any(mark in transcript.text for mark in ".,?!")
    assert "punctuation" not in transcript.metadata


@pytest.mark.parametrize("model_id", ["whisper-like", "kaldi-punctuated"])
def test_engines_that_write_punctuation_are_left_alone(
    models_dir: Path, audio: Path, model_id: str
) -> None:
    transcript = _transcribe(models_dir, audio, model_id)
    assert transcript.text == SPOKEN.replace(" |", "")
    assert "punctuation" not in transcript.metadata
