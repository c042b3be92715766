"""A caller's prompt (job option ``prompt``, the OpenAI route's ``prompt``) steers how
the real whisper-base spells South African names that plain decoding mangles."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from speech import concatenate_speech, write_wav

from dsac_asr.models.registry import ModelRegistry
from dsac_asr.pipeline import Pipeline, TranscriptionOptions

pytestmark = pytest.mark.integration

# Seen without a prompt: "Shalban and KWINI -K8", "Zoli Sibhalamini", "KGOTH HATS
# Omakona", "LWAZINGCOBO will meet NUMVILA Sithol"; with it, the names as written.
LINES = (
    ("slt", "Please ask Siobhan Nkwinika to call Thabo back."),
    ("slt", "The report from Xolisa Dlamini reached Kgothatso Mokoena today."),
    ("awb", "Lwazi Ngcobo will meet Nomvula Sithole on Friday."),
)
NAMES = ("Nkwinika", "Xolisa", "Dlamini", "Kgothatso", "Mokoena", "Lwazi", "Ngcobo", "Nomvula")
PROMPT = "Siobhan Nkwinika, Xolisa Dlamini, Kgothatso Mokoena, Lwazi Ngcobo, Nomvula Sithole."


def _names_found(text: str) -> set[str]:
    return {name for name in NAMES if re.search(rf"\b{name}\b", text)}


@pytest.fixture(scope="module")
def names_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("names")
    audio, _spans = concatenate_speech(folder, list(LINES), 16000)
    return write_wav(folder / "names.wav", [audio], 16000)


def _text(pipeline: Pipeline, path: Path, prompt: str | None) -> str:
    options = TranscriptionOptions(language="eng", model="whisper-base", prompt=prompt)
    return pipeline.transcribe(path, options).text


def test_a_prompt_spells_the_names_that_plain_decoding_misses(
    names_wav: Path, tmp_path: Path
) -> None:
    pipeline = Pipeline(registry=ModelRegistry(tmp_path / "models"))

    plain = _text(pipeline, names_wav, None)
    prompted = _text(pipeline, names_wav, PROMPT)

    assert len(_names_found(prompted)) >= 6, prompted
    assert len(_names_found(plain)) <= 2, plain
    assert PROMPT not in prompted  # the prompt conditions decoding; it is not transcribed
    assert "Friday" in prompted and "report" in prompted, prompted


def test_the_real_engine_hands_both_prompts_and_the_temperature_to_faster_whisper(
    names_wav: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import faster_whisper

    seen: list[dict[str, Any]] = []
    for owner in (faster_whisper.WhisperModel, faster_whisper.BatchedInferencePipeline):
        real = owner.transcribe

        def spy(self: Any, audio: Any, *args: Any, _real: Any = real, **kwargs: Any) -> Any:
            seen.append(kwargs)
            return _real(self, audio, *args, **kwargs)

        monkeypatch.setattr(owner, "transcribe", spy)
    pipeline = Pipeline(registry=ModelRegistry(tmp_path / "models"))
    options = TranscriptionOptions(
        language="eng", model="whisper-base", domain="PARL", prompt=PROMPT, temperature=0.2
    )

    pipeline.transcribe(names_wav, options)
    assert seen and all(call["initial_prompt"].startswith("Hansard") for call in seen)
    assert all(call["initial_prompt"].endswith(PROMPT) for call in seen)
    assert all(call["temperature"] == 0.2 for call in seen)

    seen.clear()
    pipeline.transcribe(names_wav, replace(options, temperature=None))
    assert seen and all("temperature" not in call for call in seen)  # faster-whisper's default
