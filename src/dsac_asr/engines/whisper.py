"""Whisper through faster-whisper (CTranslate2), from a folder or split weights."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from dsac_asr.engines.base import (
    ProgressCallback,
    RecognitionRequest,
    RecognizedSegment,
    RecognizedWord,
)
from dsac_asr.engines.regions import CollapsedAudio, collapse, find_speech
from dsac_asr.errors import DecodeTimeoutError, EngineError, InvalidOptionError, ModelError
from dsac_asr.models.languages import MULTILINGUAL, iso1_code
from dsac_asr.models.manifest import InstalledModel

SAMPLE_RATE_HZ = 16000
_MIN_BUDGET_S = 30.0


@dataclass(frozen=True)
class WhisperOptions:
    """Decoding settings shared by every request on one loaded model."""

    compute_type: str = "int8"
    cpu_threads: int = 0
    beam_size: int = 5
    budget_factor: float = 3.0


def _load(model: InstalledModel, options: WhisperOptions) -> Any:
    from faster_whisper import WhisperModel

    kwargs: dict[str, Any] = {
        "device": "cpu",
        "compute_type": options.compute_type,
        "cpu_threads": options.cpu_threads,
    }
    if model.weight_parts:
        kwargs["files"] = _files_in_memory(model)
    try:
        return WhisperModel(str(model.path), **kwargs)
    except (RuntimeError, ValueError, OSError) as exc:
        raise ModelError(f"cannot load Whisper model {model.id}: {exc}") from exc


def _files_in_memory(model: InstalledModel) -> dict[str, bytes]:
    """The model's files as bytes, with ``model.bin`` joined from its parts."""
    files = {p.name: p.read_bytes() for p in model.path.iterdir() if p.suffix in (".json", ".txt")}
    files["model.bin"] = b"".join(part.read_bytes() for part in model.weight_parts)
    return files


class WhisperEngine:
    """A loaded Whisper model; ``recognize`` may be called many times."""

    sample_rate_hz = SAMPLE_RATE_HZ

    def __init__(self, model: InstalledModel, options: WhisperOptions | None = None) -> None:
        self.options = options or WhisperOptions()
        self.model_id = model.id
        self._model = _load(model, self.options)

    def recognize(
        self,
        samples: npt.NDArray[np.float32],
        request: RecognitionRequest,
        on_progress: ProgressCallback | None = None,
    ) -> list[RecognizedSegment]:
        """Recognise the speech regions of mono 16 kHz audio in the request's language."""
        regions = find_speech(samples, SAMPLE_RATE_HZ)
        segments = (
            self._recognize_regions(
                collapse(samples, regions, SAMPLE_RATE_HZ), request, on_progress
            )
            if regions
            else []
        )
        if on_progress is not None:
            on_progress(1.0)
        return segments

    def _recognize_regions(
        self,
        speech: CollapsedAudio,
        request: RecognitionRequest,
        on_progress: ProgressCallback | None,
    ) -> list[RecognizedSegment]:
        language = self._language_for(speech.samples, request)
        try:
            raw, _info = self._model.transcribe(
                speech.samples,
                language=iso1_code(language),
                beam_size=self.options.beam_size,
                word_timestamps=True,
                vad_filter=False,
                condition_on_previous_text=False,
                initial_prompt=request.domain_prompt,
                hotwords=request.hotwords,
            )
            return self._collect(raw, speech, language, on_progress)
        except (RuntimeError, ValueError) as exc:
            raise EngineError(f"Whisper failed: {exc}") from exc

    def _collect(
        self,
        raw: Iterable[Any],
        speech: CollapsedAudio,
        language: str,
        on_progress: ProgressCallback | None,
    ) -> list[RecognizedSegment]:
        duration_s = len(speech.samples) / SAMPLE_RATE_HZ
        deadline = time.monotonic() + max(_MIN_BUDGET_S, self.options.budget_factor * duration_s)
        segments: list[RecognizedSegment] = []
        for segment in raw:
            if time.monotonic() > deadline:
                raise DecodeTimeoutError(
                    f"recognition exceeded its time budget on {duration_s:.0f} s of speech"
                )
            converted = _convert(segment, language, speech)
            if converted is not None and not is_runaway_repetition(converted):
                segments.append(converted)
            if on_progress is not None:
                on_progress(min(1.0, float(segment.end) / duration_s))
        return segments

    def _language_for(self, samples: npt.NDArray[np.float32], request: RecognitionRequest) -> str:
        if request.language != MULTILINGUAL:
            if iso1_code(request.language) is None:
                raise InvalidOptionError(f"Whisper has no code for language {request.language}")
            return request.language
        return self.identify_language(samples, request.candidate_languages)

    def identify_language(
        self, samples: npt.NDArray[np.float32], candidates: tuple[str, ...]
    ) -> str:
        """The most probable language among ``candidates`` (never one outside them)."""
        if not candidates:
            raise InvalidOptionError("multilingual mode needs candidate languages")
        by_iso1 = {iso1_code(code): code for code in candidates}
        _lang, _prob, scores = self._model.detect_language(samples, vad_filter=True)
        allowed = [(prob, by_iso1[code]) for code, prob in scores if code in by_iso1]
        return max(allowed)[1] if allowed else candidates[0]


def _convert(segment: Any, language: str, speech: CollapsedAudio) -> RecognizedSegment | None:
    words = tuple(
        _word(
            word.word.strip(), float(word.start), float(word.end), float(word.probability), speech
        )
        for word in segment.words or ()
        if word.word.strip()
    )
    if not words:
        return None
    return RecognizedSegment(text=segment.text.strip(), words=words, language=language)


def _word(
    text: str, start_s: float, end_s: float, probability: float, speech: CollapsedAudio
) -> RecognizedWord:
    start_s, end_s = speech.to_original(start_s, end_s)
    return RecognizedWord(text, round(start_s, 3), round(end_s, 3), probability)


def is_runaway_repetition(segment: RecognizedSegment, min_words: int = 12) -> bool:
    """True for a hallucination loop: many words, few of them distinct."""
    words = [w.text.lower().strip(".,!?") for w in segment.words]
    return len(words) >= min_words and len(set(words)) / len(words) < 0.25
