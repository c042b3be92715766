"""Import a Whisper fine-tune in Hugging Face ``transformers`` form as a CTranslate2 model.

The checkpoint folder (``config.json``, ``model.safetensors`` or
``pytorch_model.bin``, tokenizer files, ``preprocessor_config.json``) is
converted by CTranslate2's own ``TransformersConverter`` (int8 by default)
into a model folder faster-whisper loads, with ``tokenizer.json`` beside it
(generated from ``vocab.json``/``merges.txt`` when the checkpoint has none:
faster-whisper would otherwise fetch one at run time). A folder already
converted for faster-whisper (``model.bin`` + ``tokenizer.json``) is copied.

Whisper's tokenizer has no token for isiZulu, isiXhosa, Sesotho, Setswana,
Sepedi, siSwati, Tshivenda, Xitsonga or isiNdebele, so a fine-tune for one
of them was trained with another language's token (often ``sw`` or ``sn``)
or with none. The manifest records which (``language_token``), and the
engine always starts decoding with it: Whisper never picks a language.
The conversion needs the ``convert`` extra (transformers and torch).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from dsac_asr.errors import InvalidOptionError, MissingExtraError, ModelError
from dsac_asr.models.install import check_free, install, new_manifest
from dsac_asr.models.languages import iso1_code, language_name, normalize_language
from dsac_asr.models.manifest import NO_LANGUAGE_TOKEN, Band, InstalledModel

WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)
COPIED_FILES = ("preprocessor_config.json", "tokenizer.json")
QUANTIZATIONS = ("int8", "int8_float32", "int8_float16", "int16", "float16", "float32")
CONVERT_EXTRA = "pip install 'dsac-asr[convert]'"


def import_whisper(
    hf_dir: Path,
    models_root: Path,
    *,
    model_id: str,
    language: str,
    band: Band = Band.BB,
    language_token: str | None = None,
    domain: str | None = None,
    quantization: str = "int8",
    replace: bool = False,
) -> InstalledModel:
    """Convert the Whisper checkpoint in ``hf_dir`` into ``models_root/<model_id>/``.

    ``language_token`` is the token the fine-tune was trained with (``sw``,
    ``none``...); unset, it is read from the checkpoint's generation config,
    else the language's own Whisper code. Raises InvalidOptionError for bad
    options, ModelError for an unusable checkpoint, MissingExtraError without
    the ``convert`` extra.
    """
    hf_dir = hf_dir.absolute()
    language = normalize_language(language)
    if quantization not in QUANTIZATIONS:
        raise InvalidOptionError(f"quantization must be one of {', '.join(QUANTIZATIONS)}")
    converted = is_ctranslate2(hf_dir)
    if not converted:
        check_checkpoint(hf_dir)
    token = choose_language_token(hf_dir, language, language_token)
    manifest = new_manifest(
        id=model_id,
        engine="whisper",
        languages=[language],
        band=band,
        domain=domain,
        version="ctranslate2" if converted else quantization,
        source=f"whisper-import:{hf_dir}",
        description=f"Whisper fine-tune imported from {hf_dir.name}",
        language_token=token,
    )
    target = models_root / model_id
    check_free(target, replace)
    if converted:
        install(target, manifest, lambda staging: copy_converted(hf_dir, staging))
    else:
        install(target, manifest, lambda staging: convert_whisper(hf_dir, staging, quantization))
    return InstalledModel(manifest=manifest, path=target)


def is_ctranslate2(folder: Path) -> bool:
    """True for a folder already converted for faster-whisper (``model.bin``); it must
    hold ``tokenizer.json`` too, which faster-whisper would otherwise fetch."""
    if not (folder / "model.bin").is_file():
        return False
    if not (folder / "tokenizer.json").is_file():
        raise ModelError(f"{folder} has model.bin but no tokenizer.json beside it")
    return True


def copy_converted(source: Path, out: Path) -> None:
    """Copy a CTranslate2 Whisper folder's files (weights, configs, vocabulary)."""
    for path in source.iterdir():
        if path.is_file() and path.suffix in (".bin", ".json", ".txt"):
            shutil.copyfile(path, out / path.name)


def check_checkpoint_files(folder: Path, tokenizer_files: tuple[str, ...]) -> None:
    """ModelError naming what a transformers checkpoint folder lacks."""
    if not folder.is_dir():
        raise ModelError(f"the checkpoint folder {folder} does not exist")
    missing = [] if (folder / "config.json").is_file() else ["config.json"]
    if not any((folder / name).is_file() for name in WEIGHT_FILES):
        missing.append(" or ".join(WEIGHT_FILES[::2]))
    if not any((folder / name).is_file() for name in tokenizer_files):
        missing.append(" or ".join(tokenizer_files))
    if missing:
        lacks = ", ".join(missing)
        raise ModelError(f"{folder} is not a transformers checkpoint: it lacks {lacks}")


def check_checkpoint(hf_dir: Path) -> None:
    """ModelError naming what a transformers Whisper folder lacks."""
    check_checkpoint_files(hf_dir, ("tokenizer.json", "vocab.json"))
    model_type = read_json(hf_dir / "config.json").get("model_type")
    if model_type != "whisper":
        raise ModelError(
            f"{hf_dir} holds a {model_type!r} model, not Whisper "
            "(CTC models such as wav2vec2 are imported with 'dsac-asr models import-ctc')"
        )


def choose_language_token(hf_dir: Path, language: str, given: str | None) -> str | None:
    """The manifest's ``language_token``: ``given``, else the checkpoint's own, else
    None when the language's ISO 639-1 code is a Whisper token."""
    vocabulary = _special_tokens(hf_dir)
    token = _bare(given) if given is not None else _trained_token(hf_dir, vocabulary)
    if token is None:
        own = iso1_code(language)
        if own is not None and f"<|{own}|>" in vocabulary:
            return None
        raise InvalidOptionError(
            f"Whisper has no language token for {language_name(language)} ({language}): pass "
            "--language-token with the token the fine-tune was trained with (its model card "
            "says, e.g. sw), or 'none' if it was trained without one"
        )
    if token != NO_LANGUAGE_TOKEN and f"<|{token}|>" not in vocabulary:
        raise InvalidOptionError(f"the checkpoint's tokenizer has no token <|{token}|>")
    return token


def _bare(token: str) -> str:
    """``<|sw|>`` or ``sw`` as ``sw``; ``none`` stays."""
    return token.strip().removeprefix("<|").removesuffix("|>").lower()


def _special_tokens(hf_dir: Path) -> dict[str, int]:
    """Added (special) tokens of the checkpoint's tokenizer, by text."""
    if (hf_dir / "tokenizer.json").is_file():
        added = read_json(hf_dir / "tokenizer.json").get("added_tokens", [])
        return {str(item["content"]): int(item["id"]) for item in added}
    config = read_json(hf_dir / "tokenizer_config.json")
    decoder = config.get("added_tokens_decoder", {})
    tokens = {str(item["content"]): int(key) for key, item in decoder.items()}
    vocab = read_json(hf_dir / "vocab.json")
    return tokens | {t: int(i) for t, i in vocab.items() if t.startswith("<|")}


def _trained_token(hf_dir: Path, vocabulary: dict[str, int]) -> str | None:
    """The language token the checkpoint's generation config forces, if it says."""
    config = read_json(hf_dir / "generation_config.json")
    language = config.get("language")
    if isinstance(language, str) and language:
        return _language_code(language)
    forced = dict(config.get("forced_decoder_ids") or [])
    if forced.get(1) is not None:
        by_id = {token_id: text for text, token_id in vocabulary.items()}
        first = by_id.get(forced[1], "")
        return NO_LANGUAGE_TOKEN if first in ("<|transcribe|>", "<|translate|>") else _bare(first)
    return None


def _language_code(language: str) -> str:
    """A generation config's ``language`` (``sw``, ``<|sw|>``, ``swahili``) as a token code."""
    code = _bare(language)
    if len(code) <= 3:
        return code
    try:
        from transformers.models.whisper.tokenization_whisper import TO_LANGUAGE_CODE
    except ImportError as exc:
        raise MissingExtraError(f"importing Whisper models needs: {CONVERT_EXTRA}") from exc
    return str(TO_LANGUAGE_CODE.get(code, code))


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``; empty when the file is absent."""
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ModelError(f"{path} does not hold a JSON object")
    return data


def convert_whisper(hf_dir: Path, out: Path, quantization: str) -> None:
    """CTranslate2's conversion of ``hf_dir`` into ``out``, with the tokenizer beside it."""
    converter_class = _converter_class()
    copied = [name for name in COPIED_FILES if (hf_dir / name).is_file()]
    try:
        converter = converter_class(str(hf_dir), copy_files=copied, low_cpu_mem_usage=True)
        converter.convert(str(out), quantization=quantization, force=True)
    except (ValueError, OSError, RuntimeError, KeyError, TypeError) as exc:
        raise ModelError(f"CTranslate2 cannot convert {hf_dir}: {exc}") from exc
    if not (out / "tokenizer.json").is_file():
        write_fast_tokenizer(hf_dir, out)


def _converter_class() -> Any:
    """CTranslate2's TransformersConverter, which needs transformers and torch."""
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
        from ctranslate2.converters import TransformersConverter
    except ImportError as exc:
        raise MissingExtraError(f"importing Whisper models needs: {CONVERT_EXTRA}") from exc
    return TransformersConverter


def write_fast_tokenizer(hf_dir: Path, out: Path) -> None:
    """``out/tokenizer.json`` made from the checkpoint's ``vocab.json``/``merges.txt``."""
    from transformers import AutoTokenizer

    with tempfile.TemporaryDirectory() as scratch:
        try:
            AutoTokenizer.from_pretrained(str(hf_dir)).save_pretrained(scratch)
        except (ValueError, OSError) as exc:
            raise ModelError(f"cannot read the tokenizer in {hf_dir}: {exc}") from exc
        made = Path(scratch) / "tokenizer.json"
        if not made.is_file():
            raise ModelError(f"no tokenizer.json could be made from {hf_dir}")
        shutil.copyfile(made, out / "tokenizer.json")
