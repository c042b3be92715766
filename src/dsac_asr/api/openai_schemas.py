"""Bodies of the OpenAI-compatible routes, and a transcript in OpenAI's shapes.

``json`` is ``{"text"}``; ``verbose_json`` adds ``task``, ``language`` (a name,
as OpenAI writes it), ``duration``, ``segments`` and, when asked for,
``words``. Fields OpenAI has no source for here (``tokens``, ``avg_logprob``,
...) carry neutral values; ``speaker`` and ``confidence`` are extra.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from dsac_asr.api.schemas import ModelOut
from dsac_asr.errors import DsacError
from dsac_asr.models.languages import language_name, normalize_language
from dsac_asr.models.manifest import InstalledModel
from dsac_asr.transcript import Segment, Transcript, Word


class ResponseFormat(StrEnum):
    """What ``response_format`` accepts."""

    JSON = "json"
    TEXT = "text"
    SRT = "srt"
    VERBOSE_JSON = "verbose_json"
    VTT = "vtt"


class Granularity(StrEnum):
    """What ``timestamp_granularities[]`` accepts."""

    WORD = "word"
    SEGMENT = "segment"


class OpenAIErrorBody(BaseModel):
    """OpenAI's error fields."""

    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIError(BaseModel):
    """``{"error": {"message", "type", "param", "code"}}``."""

    error: OpenAIErrorBody


class TranscriptionOut(BaseModel):
    """``response_format=json``."""

    text: str


class WordOut(BaseModel):
    """A word of ``verbose_json`` (``speaker`` and ``confidence`` are extra)."""

    word: str
    start: float
    end: float
    confidence: float
    speaker: str | None = None


class SegmentOut(BaseModel):
    """A segment of ``verbose_json``."""

    id: int
    seek: int
    start: float
    end: float
    text: str
    tokens: list[int]
    temperature: float
    avg_logprob: float
    compression_ratio: float
    no_speech_prob: float
    confidence: float
    speaker: str | None = None


class VerboseTranscriptionOut(BaseModel):
    """``response_format=verbose_json``."""

    task: str = "transcribe"
    language: str
    duration: float
    text: str
    segments: list[SegmentOut] | None = None
    words: list[WordOut] | None = None
    model: str


class ModelCard(ModelOut):
    """An installed model as OpenAI lists one (``object``, ``created``, ``owned_by``)
    plus dsac-asr's own fields."""

    object: str = "model"
    created: int
    owned_by: str
    description: str | None = None


class ModelCardList(BaseModel):
    """``GET /v1/models``: ``{"object": "list", "data": [...]}``."""

    object: str = "list"
    data: list[ModelCard]


def model_card(model: InstalledModel) -> ModelCard:
    """The list entry of an installed model; ``created`` is its folder's modification time."""
    try:
        created = int(model.path.stat().st_mtime)
    except OSError:
        created = 0
    m = model.manifest
    return ModelCard(
        id=model.id,
        created=created,
        owned_by=m.source or "dsac-asr",
        engine=m.engine,
        languages=m.languages,
        band=m.band.value,
        sample_rate_hz=m.sample_rate_hz,
        domain=m.domain,
        domains=model.domains,
        version=m.version,
        source=m.source,
        quality=m.quality,
    )


OPENAI_MODEL = "whisper-1"
"""OpenAI's model name; on ``/v1/audio/transcriptions`` it routes as a job does."""


def alias_card(models: list[InstalledModel]) -> ModelCard:
    """The ``whisper-1`` entry: not a model of its own but routing, by language, band
    and domain, to the installed models (its languages and domains are theirs)."""
    languages = list(dict.fromkeys(code for m in models for code in m.manifest.languages))
    domains = sorted({domain for m in models for domain in m.domains})
    return ModelCard(
        id=OPENAI_MODEL,
        created=0,
        owned_by="dsac-asr",
        description="OpenAI's model name: routes each request by its language, band and "
        "domain to one of the installed models listed here, as a job without a model does",
        engine="alias",
        languages=languages,
        band="auto",
        sample_rate_hz=0,
        domain=None,
        domains=domains,
        version="",
        source="dsac-asr",
    )


def verbose_transcription(
    transcript: Transcript, granularities: set[Granularity]
) -> VerboseTranscriptionOut:
    """The transcript as ``verbose_json``: segments unless only words were asked for."""
    wants_words = Granularity.WORD in granularities
    wants_segments = Granularity.SEGMENT in granularities or not wants_words
    return VerboseTranscriptionOut(
        language=_language_name(transcript.language),
        duration=round(transcript.duration_s, 3),
        text=transcript.text,
        segments=[_segment(i, s) for i, s in enumerate(transcript.segments)]
        if wants_segments
        else None,
        words=[_word(w) for w in transcript.words] if wants_words else None,
        model=transcript.model_id,
    )


def _segment(index: int, segment: Segment) -> SegmentOut:
    confidences = [w.confidence for w in segment.words]
    return SegmentOut(
        id=index,
        seek=0,
        start=round(segment.start_s, 3),
        end=round(segment.end_s, 3),
        text=segment.text,
        tokens=[],
        temperature=0.0,
        avg_logprob=0.0,
        compression_ratio=0.0,
        no_speech_prob=0.0,
        confidence=round(sum(confidences) / len(confidences), 3) if confidences else 0.0,
        speaker=segment.speaker or _only_speaker(segment.words),
    )


def _only_speaker(words: tuple[Word, ...]) -> str | None:
    speakers = {w.speaker for w in words}
    return speakers.pop() if len(speakers) == 1 else None


def _word(word: Word) -> WordOut:
    return WordOut(
        word=word.text,
        start=round(word.start_s, 3),
        end=round(word.end_s, 3),
        confidence=round(word.confidence, 3),
        speaker=word.speaker,
    )


def _language_name(code: str) -> str:
    """OpenAI names the language in English, lower case (``english``, ``afrikaans``)."""
    try:
        return language_name(normalize_language(code)).lower()
    except DsacError:
        return code
