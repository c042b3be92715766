"""Checks and choices of ``models import-whisper`` made before any conversion, and the
language token the Whisper engine then decodes with (the bundled base tokenizer)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import tokenizers
from faster_whisper.tokenizer import Tokenizer
from tiny_models import bundled_whisper_tokenizer

from dsac_asr.engines.whisper_tokens import (
    TrainedLanguageToken,
    decoding_code,
    known_codes,
    needs_wrapping,
)
from dsac_asr.errors import InvalidOptionError, ModelError
from dsac_asr.models.bundled import bundled_models
from dsac_asr.models.manifest import ModelManifest
from dsac_asr.models.whisper_import import check_checkpoint, choose_language_token


@pytest.fixture
def checkpoint(tmp_path: Path) -> Path:
    folder = tmp_path / "hf"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "whisper"}))
    (folder / "model.safetensors").write_bytes(b"")
    shutil.copyfile(bundled_whisper_tokenizer(), folder / "tokenizer.json")
    return folder


def _generation_config(folder: Path, **fields: object) -> None:
    (folder / "generation_config.json").write_text(json.dumps(fields))


def test_a_language_whisper_knows_needs_no_token(checkpoint: Path) -> None:
    assert choose_language_token(checkpoint, "afr", None) is None


def test_a_language_whisper_lacks_needs_a_token(checkpoint: Path) -> None:
    with pytest.raises(InvalidOptionError, match="--language-token"):
        choose_language_token(checkpoint, "zul", None)
    assert choose_language_token(checkpoint, "zul", "<|sw|>") == "sw"
    assert choose_language_token(checkpoint, "zul", "none") == "none"
    with pytest.raises(InvalidOptionError, match=re.escape("no token <|zu|>")):
        choose_language_token(checkpoint, "zul", "zu")


def test_the_checkpoints_own_token_is_read_from_its_generation_config(checkpoint: Path) -> None:
    _generation_config(checkpoint, language="swahili")
    assert choose_language_token(checkpoint, "zul", None) == "sw"
    _generation_config(checkpoint, language="<|sn|>")
    assert choose_language_token(checkpoint, "xho", None) == "sn"
    transcribe = 50359
    _generation_config(checkpoint, forced_decoder_ids=[[1, transcribe], [2, 50363]])
    assert choose_language_token(checkpoint, "zul", None) == "none"
    _generation_config(checkpoint, forced_decoder_ids=[[1, None], [2, transcribe]])
    with pytest.raises(InvalidOptionError, match="--language-token"):
        choose_language_token(checkpoint, "zul", None)


def test_a_folder_that_is_not_a_whisper_checkpoint_is_refused(
    checkpoint: Path, tmp_path: Path
) -> None:
    check_checkpoint(checkpoint)
    (checkpoint / "model.safetensors").unlink()
    with pytest.raises(ModelError, match=re.escape("lacks model.safetensors or pytorch_model.bin")):
        check_checkpoint(checkpoint)
    (checkpoint / "model.safetensors").write_bytes(b"")
    (checkpoint / "config.json").write_text(json.dumps({"model_type": "wav2vec2"}))
    with pytest.raises(ModelError, match="import-ctc"):
        check_checkpoint(checkpoint)
    with pytest.raises(ModelError, match="does not exist"):
        check_checkpoint(tmp_path / "absent")


def _manifest(token: str | None) -> ModelManifest:
    return ModelManifest(
        id="zul", engine="whisper", languages=["zul"], band="bb", language_token=token
    )


def test_the_engine_decodes_with_the_manifests_token() -> None:
    codes = known_codes()
    assert decoding_code(_manifest("sw"), "zul", codes) == "sw"
    assert not needs_wrapping(_manifest("sw"), codes)
    assert needs_wrapping(_manifest("none"), codes) and needs_wrapping(_manifest("zu"), codes)
    base = next(m for m in bundled_models() if m.id == "whisper-base").manifest
    assert decoding_code(base, "afr", codes) == "af"
    with pytest.raises(InvalidOptionError, match="no code for language zul"):
        decoding_code(base, "zul", codes)


def test_a_wrapped_tokenizer_starts_decoding_without_a_language_or_with_the_trained_one() -> None:
    plain = tokenizers.Tokenizer.from_file(str(bundled_whisper_tokenizer()))
    sot, transcribe, swahili = (
        plain.token_to_id(t) for t in ("<|startoftranscript|>", "<|transcribe|>", "<|sw|>")
    )
    without = Tokenizer(TrainedLanguageToken(plain, None), True, "transcribe", "en")
    assert without.sot_sequence == [sot, transcribe]
    trained = Tokenizer(TrainedLanguageToken(plain, "sw"), True, "transcribe", "en")
    assert trained.sot_sequence == [sot, swahili, transcribe]
    assert trained.encode(" sawubona") == Tokenizer(plain, True, "transcribe", "sw").encode(
        " sawubona"
    )
