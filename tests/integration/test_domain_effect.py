"""A domain (the shipped PARL prompt) changes what Whisper writes on parliament speech."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from speech import concatenate_speech, write_wav

from dsac_asr.models.registry import ModelRegistry
from dsac_asr.pipeline import Pipeline, TranscriptionOptions

pytestmark = pytest.mark.integration

# Sentences whose parliament terms whisper-base mishears without the domain
# (seen: "the bill in the cop", "the chief wipe of the door").
LINES = (
    ("slt", "The Portfolio Committee will table the Bill in the NCOP."),
    ("slt", "Madam Speaker, the Chief Whip of the DA has the floor."),
    ("awb", "The honourable member from the EFF must withdraw."),
)
TERMS = ("NCOP", "Chief Whip", "DA", "EFF")


def _terms_found(text: str) -> set[str]:
    return {term for term in TERMS if re.search(rf"\b{term}\b", text)}


@pytest.fixture(scope="module")
def parliament_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("parliament")
    audio, _spans = concatenate_speech(folder, list(LINES), 16000)
    return write_wav(folder / "parliament.wav", [audio], 16000)


def _text(pipeline: Pipeline, path: Path, domain: str | None) -> tuple[str, dict[str, str]]:
    transcript = pipeline.transcribe(path, TranscriptionOptions(language="eng", domain=domain))
    words = " ".join(w.text for s in transcript.segments for w in s.words)
    return words, dict(transcript.metadata)


def test_parliament_domain_writes_the_terms_that_plain_decoding_misses(
    parliament_wav: Path, tmp_path: Path
) -> None:
    pipeline = Pipeline(registry=ModelRegistry(tmp_path / "models"))

    plain, plain_meta = _text(pipeline, parliament_wav, None)
    steered, steered_meta = _text(pipeline, parliament_wav, "PARL")

    assert "domain" not in plain_meta
    assert steered_meta["domain"] == "PARL"
    assert len(_terms_found(steered)) >= 3, steered
    assert len(_terms_found(plain)) < len(_terms_found(steered)), (plain, steered)
    assert "Thank you" not in steered, steered  # the prompt must not add speech
