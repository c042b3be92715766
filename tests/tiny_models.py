"""Small randomly initialised models the tests build and import (a few MB each).

Their weights are random, so what they recognise is noise: tests check that
the import, routing and decoding machinery works (a valid transcript with
ordered word times), never which words come out.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from dsac_asr.models.bundled import bundled_models

LETTERS = "abcdefghijklmnopqrstuvwxyz'"


def bundled_whisper_tokenizer() -> Path:
    """The bundled whisper-base model's ``tokenizer.json`` (multilingual, 51865 tokens)."""
    base = next(m for m in bundled_models() if m.id == "whisper-base")
    return base.path / "tokenizer.json"


def tiny_whisper(folder: Path, *, seed: int = 0) -> Path:
    """A transformers ``WhisperForConditionalGeneration`` with one small layer each side,
    saved with the bundled base model's tokenizer; returns ``folder``."""
    import torch
    from transformers import WhisperConfig, WhisperForConditionalGeneration

    torch.manual_seed(seed)
    config = WhisperConfig(
        vocab_size=51865, d_model=64, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=128,
        decoder_ffn_dim=128, num_mel_bins=80, max_source_positions=1500,
        max_target_positions=448,
    )  # fmt: skip
    WhisperForConditionalGeneration(config).save_pretrained(folder)
    shutil.copyfile(bundled_whisper_tokenizer(), folder / "tokenizer.json")
    return folder


def letter_vocabulary() -> dict[str, int]:
    """A wav2vec2-style character vocabulary: blank ``<pad>``, ``<unk>``, ``|`` and letters."""
    tokens = ["<pad>", "<s>", "</s>", "<unk>", "|", *LETTERS]
    return {token: index for index, token in enumerate(tokens)}


def tiny_wav2vec2(folder: Path, *, seed: int = 0) -> Path:
    """A transformers ``Wav2Vec2ForCTC`` (two small layers) with a letter vocabulary and
    its feature extractor and tokenizer files; returns ``folder``."""
    import torch
    from transformers import Wav2Vec2Config, Wav2Vec2ForCTC

    torch.manual_seed(seed)
    vocabulary = letter_vocabulary()
    config = Wav2Vec2Config(
        vocab_size=len(vocabulary), hidden_size=32, num_hidden_layers=2,
        num_attention_heads=2, intermediate_size=64, conv_dim=(32, 32, 32, 32, 32, 32, 32),
        num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2, pad_token_id=0,
        feat_extract_norm="layer", do_stable_layer_norm=True,
    )  # fmt: skip
    Wav2Vec2ForCTC(config).save_pretrained(folder)
    (folder / "vocab.json").write_text(json.dumps(vocabulary), encoding="utf-8")
    extractor = {
        "feature_extractor_type": "Wav2Vec2FeatureExtractor", "do_normalize": True,
        "sampling_rate": 16000, "feature_size": 1, "padding_value": 0.0,
        "return_attention_mask": True,
    }  # fmt: skip
    (folder / "preprocessor_config.json").write_text(json.dumps(extractor), encoding="utf-8")
    tokenizer = {"unk_token": "<unk>", "pad_token": "<pad>", "word_delimiter_token": "|"}
    (folder / "tokenizer_config.json").write_text(json.dumps(tokenizer), encoding="utf-8")
    return folder


def tiny_mms(folder: Path, languages: tuple[str, ...] = ("zul", "xho"), *, seed: int = 0) -> Path:
    """A tiny MMS-style ``Wav2Vec2ForCTC``: shared weights plus one adapter per language
    (``adapter.<code>.safetensors``, each with its own output layer) and a ``vocab.json``
    holding one vocabulary per language, the first one letter shorter than the others."""
    import torch
    from safetensors.torch import save_file
    from transformers import Wav2Vec2Config, Wav2Vec2ForCTC

    torch.manual_seed(seed)
    base = letter_vocabulary()
    vocabularies = {
        code: dict(list(base.items())[: len(base) - (index == 0)])
        for index, code in enumerate(languages)
    }
    config = Wav2Vec2Config(
        vocab_size=len(base), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, conv_dim=(32,) * 7, num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2, pad_token_id=0, feat_extract_norm="layer",
        do_stable_layer_norm=True, adapter_attn_dim=8,
    )  # fmt: skip
    model = Wav2Vec2ForCTC(config)
    model.save_pretrained(folder)
    for code, vocabulary in vocabularies.items():
        model.lm_head = torch.nn.Linear(32, len(vocabulary))
        weights = {
            name: p.detach().clone().contiguous() for name, p in model._get_adapters().items()
        }
        save_file(weights, str(folder / f"adapter.{code}.safetensors"))
    (folder / "vocab.json").write_text(json.dumps(vocabularies), encoding="utf-8")
    return folder
