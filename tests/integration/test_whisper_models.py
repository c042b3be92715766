"""``import_whisper`` on a tiny randomly initialised checkpoint (``tiny_models``), and the
Whisper engine decoding with the language token the manifest names.

Weights are random, so the words are noise and never asserted."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_models import tiny_whisper

from dsac_asr.engines.whisper import WhisperEngine, WhisperOptions
from dsac_asr.engines.whisper_tokens import TrainedLanguageToken
from dsac_asr.errors import ModelError
from dsac_asr.models.manifest import Band
from dsac_asr.models.registry import ModelRegistry, RouteRequest
from dsac_asr.models.whisper_import import import_whisper
from dsac_asr.pipeline import Pipeline, TranscriptionOptions, _recognition_request

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_whisper(tmp_path_factory.mktemp("hf") / "whisper")


def test_a_checkpoint_is_converted_routed_and_decoded(
    checkpoint: Path, tmp_path: Path, english_wav: Path
) -> None:
    model = import_whisper(
        checkpoint, tmp_path, model_id="zul-w", language="zul", language_token="sw"
    )
    assert {"model.bin", "config.json", "tokenizer.json", "manifest.json"} <= {
        p.name for p in model.path.iterdir()
    }
    assert model.manifest.language_token == "sw" and model.manifest.version == "int8"
    registry = ModelRegistry(tmp_path)
    assert registry.route(RouteRequest("zul", Band.BB)).model.id == "zul-w"
    transcript = Pipeline(registry).transcribe(english_wav, TranscriptionOptions(language="zul"))
    assert transcript.model_id == "zul-w" and transcript.language == "zul"
    starts = [w.start_s for s in transcript.segments for w in s.words]
    assert starts == sorted(starts)
    assert all(
        w.start_s <= w.end_s <= transcript.duration_s for s in transcript.segments for w in s.words
    )


def test_without_a_language_token_the_engine_wraps_the_tokenizer(
    checkpoint: Path, tmp_path: Path, english_wav: Path
) -> None:
    model = import_whisper(
        checkpoint, tmp_path, model_id="xho-w", language="xho", language_token="none"
    )
    engine = WhisperEngine(model, WhisperOptions(batch_size=1))
    assert isinstance(engine._model.hf_tokenizer, TrainedLanguageToken)
    assert engine._model.hf_tokenizer.token_to_id("<|en|>") is None
    transcript = Pipeline(ModelRegistry(tmp_path)).transcribe(
        english_wav, TranscriptionOptions(language="xho", model="xho-w")
    )
    assert transcript.model_id == "xho-w"


def test_a_converted_folder_is_copied_and_one_without_tokenizer_refused(
    checkpoint: Path, tmp_path: Path
) -> None:
    converted = import_whisper(checkpoint, tmp_path / "a", model_id="w", language="afr")
    assert converted.manifest.language_token is None
    copied = import_whisper(converted.path, tmp_path / "b", model_id="w2", language="afr")
    assert copied.manifest.version == "ctranslate2"
    assert (copied.path / "model.bin").read_bytes() == (converted.path / "model.bin").read_bytes()
    (converted.path / "tokenizer.json").unlink()
    with pytest.raises(ModelError, match=r"no tokenizer\.json"):
        import_whisper(converted.path, tmp_path / "c", model_id="w3", language="afr")
    with pytest.raises(ModelError, match="already exists"):
        import_whisper(checkpoint, tmp_path / "a", model_id="w", language="afr")


def test_multilingual_mode_hands_a_language_to_the_model_made_for_it(
    checkpoint: Path, tmp_path: Path, english_wav: Path
) -> None:
    import_whisper(checkpoint, tmp_path, model_id="afr-w", language="afr")
    pipeline = Pipeline(ModelRegistry(tmp_path))
    route = pipeline.registry.route(RouteRequest("mul", Band.BB))
    assert route.model.id == "whisper-base"
    options = TranscriptionOptions(language="mul")
    request = pipeline._with_delegates(_recognition_request(route, options), route)
    assert [(code, getattr(engine, "model_id", None)) for code, engine in request.delegates] == [
        ("afr", "afr-w")
    ]
    transcript = pipeline.transcribe(english_wav, options)
    assert transcript.model_id == "whisper-base" and "fox" in transcript.text.lower()
