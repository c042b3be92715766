"""The model manifest: what a model folder holds and what it serves."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from dsac_asr.errors import ModelError
from dsac_asr.models.languages import MULTILINGUAL, normalize_language

MANIFEST_NAME = "manifest.json"


class Band(StrEnum):
    """Audio bandwidth a model is trained for."""

    NB = "nb"
    BB = "bb"

    @property
    def sample_rate_hz(self) -> int:
        """The sample rate a model of this band expects."""
        return 8000 if self is Band.NB else 16000

    @classmethod
    def parse(cls, value: str | int) -> Band:
        """Accept ``nb``/``bb``, the seed's ``NB``/``BB``, or a rate in Hz."""
        text = str(value).strip().lower()
        if text in ("nb", "8k", "8000", "narrowband"):
            return cls.NB
        if text in ("bb", "wb", "16k", "16000", "broadband", "wideband"):
            return cls.BB
        raise ValueError(f"unknown band {value!r}: use nb (8 kHz) or bb (16 kHz)")


NO_LANGUAGE_TOKEN = "none"
"""``language_token`` of a Whisper model fine-tuned without any language token."""


class CtcSettings(BaseModel):
    """How the CTC engine runs a model folder's ONNX network (see ``engines.ctc``)."""

    model_file: str = "model.int8.onnx"
    tokens_file: str = "tokens.txt"
    blank_id: int = 0
    word_delimiter: str | None = "|"
    """The token between words (``|`` in wav2vec2 vocabularies); ``None``: words are
    marked by tokens starting with ``▁`` (SentencePiece) or by a space token."""
    normalize: bool = True
    """Scale each window to zero mean and unit variance first (wav2vec2's feature extractor)."""


class ModelManifest(BaseModel):
    """Contents of a model folder's ``manifest.json``."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    engine: Literal["whisper", "kaldi", "ctc"]
    languages: list[str]
    band: Band
    domain: str | None = None
    version: str = "1"
    source: str = "local"
    description: str = ""
    priority: int = 0
    punctuated: bool | None = None
    """Whether the engine writes punctuation and casing; unset: Whisper does, Kaldi not."""
    language_token: str | None = None
    """Whisper only: the language token decoding starts with (``sw`` for ``<|sw|>``, or
    ``none``) for every language of the model; unset: each language's own ISO 639-1 code."""
    quality: dict[str, str] = {}
    """A note per language on how well the model serves it (shown by ``models list``)."""
    ctc: CtcSettings | None = None
    """CTC only: how to run the network (defaults when unset)."""

    @property
    def sample_rate_hz(self) -> int:
        """The rate the engine takes audio at: 16 kHz for Whisper and CTC networks (a
        narrowband one was trained on telephone audio at that rate), else the band's."""
        return self.band.sample_rate_hz if self.engine == "kaldi" else 16000

    @property
    def specific_to(self) -> str | None:
        """The one language the model is made for, when it serves a single language."""
        languages = self.languages
        return languages[0] if len(languages) == 1 and languages[0] != MULTILINGUAL else None

    @property
    def writes_punctuation(self) -> bool:
        """Whether this model's words come punctuated and cased (else they are restored)."""
        return self.punctuated if self.punctuated is not None else self.engine == "whisper"

    @field_validator("languages")
    @classmethod
    def _canonical_languages(cls, value: list[str]) -> list[str]:
        return [normalize_language(code) for code in value]

    @field_validator("quality")
    @classmethod
    def _canonical_quality(cls, value: dict[str, str]) -> dict[str, str]:
        return {normalize_language(code): note for code, note in value.items()}


class InstalledModel(BaseModel):
    """A manifest plus where its files are."""

    manifest: ModelManifest
    path: Path
    weight_parts: tuple[Path, ...] = ()
    bundled: bool = False
    domain_prompts: dict[str, Path] = {}

    @property
    def id(self) -> str:
        """The model id."""
        return self.manifest.id

    @property
    def domains(self) -> list[str]:
        """Every domain the model serves: its own (a Kaldi graph) and its prompt files."""
        own = [self.manifest.domain] if self.manifest.domain else []
        return own + sorted(set(self.domain_prompts) - {d.upper() for d in own})

    def size_bytes(self) -> int:
        """Total size of the model's files (links followed)."""
        files = [p for p in self.path.rglob("*") if p.is_file()]
        return sum(p.stat().st_size for p in [*files, *self.weight_parts])


def read_manifest(folder: Path) -> ModelManifest:
    """Read and validate ``folder/manifest.json``."""
    path = folder / MANIFEST_NAME
    try:
        return ModelManifest.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError) as exc:
        raise ModelError(f"bad model manifest {path}: {exc}") from exc


def write_manifest(folder: Path, manifest: ModelManifest) -> Path:
    """Write ``manifest`` as ``folder/manifest.json`` and return the path."""
    path = folder / MANIFEST_NAME
    path.write_text(manifest.model_dump_json(indent=2, exclude_none=True) + "\n", encoding="utf-8")
    return path
