"""Import a CTC acoustic model as a model folder the CTC engine runs with ONNX Runtime.

Two kinds of source folder are taken:

- an ONNX folder in sherpa-onnx's layout (``model.int8.onnx`` or
  ``model.onnx``, and ``tokens.txt`` with ``TOKEN ID`` per line), such as
  the Omnilingual ASR CTC exports; the files are copied;
- a Hugging Face ``transformers`` checkpoint of a raw-waveform CTC model
  (``Wav2Vec2ForCTC`` and kin: wav2vec2, XLS-R and MMS fine-tunes, HuBERT,
  WavLM), exported to ONNX with ``torch.onnx`` and quantised dynamically to
  int8 by ``onnxruntime.quantization``; ``vocab.json`` becomes
  ``tokens.txt``. An MMS checkpoint with one adapter per language is
  exported with the adapter of the language imported. This needs the
  ``convert`` extra (transformers, torch, onnx).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from dsac_asr.engines.ctc_decode import find_blank, read_tokens
from dsac_asr.errors import MissingExtraError, ModelError
from dsac_asr.models.install import check_free, install, new_manifest
from dsac_asr.models.languages import normalize_language
from dsac_asr.models.manifest import Band, CtcSettings, InstalledModel
from dsac_asr.models.whisper_import import CONVERT_EXTRA, check_checkpoint_files, read_json

ONNX_NAMES = ("model.int8.onnx", "model.onnx")
TOKENS_NAME = "tokens.txt"
WAVEFORM_TYPES = ("wav2vec2", "hubert", "wavlm", "data2vec-audio", "unispeech", "unispeech-sat")
OPSET = 17


def import_ctc(
    source: Path,
    models_root: Path,
    *,
    model_id: str,
    language: str,
    band: Band = Band.BB,
    domain: str | None = None,
    normalize: bool | None = None,
    quantize: bool = True,
    replace: bool = False,
) -> InstalledModel:
    """Import the CTC model in ``source`` (an ONNX folder or a transformers checkpoint)
    as ``models_root/<model_id>/``.

    ``normalize``: scale audio to zero mean and unit variance first; unset, the
    checkpoint's feature extractor says (ONNX folders: yes). ``quantize``: int8
    weights for an exported checkpoint. Raises ModelError for an unusable source.
    """
    source, language = source.absolute(), normalize_language(language)
    if not source.is_dir():
        raise ModelError(f"the model folder {source} does not exist")
    onnx = next((source / name for name in ONNX_NAMES if (source / name).is_file()), None)
    if onnx is not None:
        settings = _onnx_settings(source, onnx, normalize)
        build = _copier(onnx, source / TOKENS_NAME)
        kind = "onnx"
    else:
        settings = _checkpoint_settings(source, language, normalize, quantize)
        build = _exporter(source, language, settings, quantize)
        kind = "transformers"
    manifest = new_manifest(
        id=model_id, engine="ctc", languages=[language], band=band, domain=domain,
        source=f"ctc-import:{source}", punctuated=False, ctc=settings,
        description=f"CTC model imported from {source.name} ({kind}, {settings.model_file})",
    )  # fmt: skip
    target = models_root / model_id
    check_free(target, replace)
    install(target, manifest, build)
    return InstalledModel(manifest=manifest, path=target)


def _onnx_settings(source: Path, onnx: Path, normalize: bool | None) -> CtcSettings:
    """Settings for a sherpa-onnx style folder: blank and delimiter read from its tokens."""
    if not (source / TOKENS_NAME).is_file():
        raise ModelError(f"{source} has {onnx.name} but no {TOKENS_NAME} beside it")
    tokens = read_tokens(source / TOKENS_NAME)
    return CtcSettings(
        model_file=onnx.name,
        blank_id=find_blank(tokens),
        word_delimiter="|" if "|" in tokens else None,
        normalize=True if normalize is None else normalize,
    )


def _copier(onnx: Path, tokens: Path) -> Any:
    """Copies the network, its tokens, and weights kept outside the graph (models over
    2 GB: ``model.weights``, ``model.onnx.data``...)."""
    outside = [
        path
        for path in onnx.parent.iterdir()
        if path.is_file() and path.name.startswith("model") and path.suffix != ".onnx"
    ]

    def build(staging: Path) -> None:
        for path in (onnx, tokens, *outside):
            shutil.copyfile(path, staging / path.name)

    return build


def _checkpoint_settings(
    source: Path, language: str, normalize: bool | None, quantize: bool
) -> CtcSettings:
    """Settings for a transformers checkpoint, from its config and tokenizer files."""
    if not (source / "config.json").is_file():
        raise ModelError(
            f"{source} holds neither {' nor '.join(ONNX_NAMES)} with {TOKENS_NAME} nor a "
            "transformers checkpoint (config.json)"
        )
    check_checkpoint_files(source, ("vocab.json",))
    config = read_json(source / "config.json")
    model_type = str(config.get("model_type"))
    if model_type not in WAVEFORM_TYPES:
        raise ModelError(
            f"{source} holds a {model_type!r} model; import-ctc takes raw-waveform CTC models "
            f"({', '.join(WAVEFORM_TYPES)}) or an ONNX export"
            + (
                " (w2v-BERT takes filter-bank features, not samples)"
                if "bert" in model_type
                else ""
            )
        )
    vocabulary = checkpoint_vocabulary(source, language)
    tokenizer = read_json(source / "tokenizer_config.json")
    extractor = read_json(source / "preprocessor_config.json")
    pad = config.get("pad_token_id")
    blank = int(pad) if isinstance(pad, int) else _named_pad(vocabulary)
    return CtcSettings(
        model_file=ONNX_NAMES[0] if quantize else ONNX_NAMES[1],
        blank_id=blank,
        word_delimiter=str(tokenizer.get("word_delimiter_token") or "|"),
        normalize=bool(extractor.get("do_normalize", True)) if normalize is None else normalize,
    )


def _named_pad(vocabulary: list[str]) -> int:
    """wav2vec2's blank is its pad token."""
    return vocabulary.index("<pad>") if "<pad>" in vocabulary else find_blank(tuple(vocabulary))


def checkpoint_vocabulary(source: Path, language: str) -> list[str]:
    """The checkpoint's tokens in id order; an MMS ``vocab.json`` (one per language) gives
    the imported language's."""
    vocab: dict[str, Any] = read_json(source / "vocab.json")
    if vocab and all(isinstance(value, dict) for value in vocab.values()):
        if language not in vocab:
            raise ModelError(
                f"{source}/vocab.json has vocabularies for {len(vocab)} languages but not "
                f"{language}"
            )
        vocab = vocab[language]
    by_id = {int(index): token for token, index in vocab.items()}
    if sorted(by_id) != list(range(len(by_id))):
        raise ModelError(f"{source}/vocab.json: token ids must run from 0 without gaps")
    return [by_id[i] for i in range(len(by_id))]


def write_tokens(tokens: list[str], path: Path) -> None:
    """``tokens.txt`` in sherpa-onnx's ``TOKEN ID`` layout."""
    path.write_text("".join(f"{t} {i}\n" for i, t in enumerate(tokens)), encoding="utf-8")


def _exporter(source: Path, language: str, settings: CtcSettings, quantize: bool) -> Any:
    def build(staging: Path) -> None:
        tokens = checkpoint_vocabulary(source, language)
        export_onnx(source, language, staging / ONNX_NAMES[1], len(tokens))
        if quantize:
            quantize_onnx(staging / ONNX_NAMES[1], staging / ONNX_NAMES[0])
        write_tokens(tokens, staging / TOKENS_NAME)

    return build


def export_onnx(source: Path, language: str, target: Path, vocabulary_size: int) -> None:
    """The checkpoint as an ONNX graph: ``input_values`` and ``attention_mask`` in (batch
    and length free), ``logits`` out."""
    torch, transformers = _convert_modules()
    kwargs: dict[str, Any] = {}
    if (source / f"adapter.{language}.safetensors").is_file():
        kwargs = {"target_lang": language, "ignore_mismatched_sizes": True}
    try:
        model = transformers.AutoModelForCTC.from_pretrained(str(source), **kwargs).eval()
    except (OSError, ValueError, RuntimeError) as exc:
        raise ModelError(f"transformers cannot load {source}: {exc}") from exc
    if model.config.vocab_size != vocabulary_size:
        raise ModelError(
            f"{source}: the model has {model.config.vocab_size} outputs but vocab.json "
            f"{vocabulary_size} tokens"
        )
    _export(torch, _Logits.wrap(torch, model), target)


class _Logits:
    """A module that returns only the logits (built lazily: torch is optional)."""

    @staticmethod
    def wrap(torch: Any, model: Any) -> Any:
        class Logits(torch.nn.Module):  # type: ignore[misc]
            def __init__(self) -> None:
                super().__init__()
                self.model = model

            def forward(self, values: Any, mask: Any) -> Any:
                return self.model(values, attention_mask=mask).logits

        return Logits()


def _export(torch: Any, module: Any, target: Path) -> None:
    """Run torch's TorchScript-based exporter (``torch.export`` fails on wav2vec2's masking)."""
    values = torch.zeros(1, 16000)
    mask = torch.ones(1, 16000, dtype=torch.int64)
    axes = {0: "batch", 1: "samples"}
    try:
        with torch.no_grad():
            torch.onnx.export(
                module, (values, mask), str(target), input_names=["input_values", "attention_mask"],
                output_names=["logits"], opset_version=OPSET, dynamo=False,
                dynamic_axes={"input_values": axes, "attention_mask": axes,
                              "logits": {0: "batch", 1: "frames"}},
            )  # fmt: skip
    except (RuntimeError, ValueError, TypeError) as exc:
        raise ModelError(f"torch cannot export the model to ONNX: {exc}") from exc


def quantize_onnx(source: Path, target: Path) -> None:
    """Dynamic int8 quantisation of the matrix products (convolutions stay float:
    ONNX Runtime's CPU kernels have no int8 convolution)."""
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise MissingExtraError(f"importing CTC models needs: {CONVERT_EXTRA}") from exc
    try:
        quantize_dynamic(
            str(source), str(target), weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul", "Gemm"],
            use_external_data_format=source.stat().st_size > 1_800_000_000,
        )  # fmt: skip
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise ModelError(f"cannot quantise {source.name}: {exc}") from exc
    source.unlink()


def _convert_modules() -> tuple[Any, Any]:
    try:
        import onnx  # noqa: F401
        import torch
        import transformers
    except ImportError as exc:
        raise MissingExtraError(f"importing CTC checkpoints needs: {CONVERT_EXTRA}") from exc
    return torch, transformers
