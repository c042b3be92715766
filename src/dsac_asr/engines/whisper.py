"""Whisper through faster-whisper (CTranslate2), from a folder or split weights.

Speech regions found by Silero VAD are laid end to end with short gaps
(``regions.collapse``) and recognised either sequentially (Whisper's own
30 s sliding window) or batched: the collapsed audio is cut at region
boundaries into windows of at most 30 s, and ``batch_size`` windows are
decoded together by faster-whisper's ``BatchedInferencePipeline`` (a
region longer than a window is first cut at its quietest moments). Either
way word times are mapped back to the original audio.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Generator, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import numpy as np
import numpy.typing as npt

from dsac_asr.config import DEFAULT_BATCH_SIZE
from dsac_asr.engines.base import (
    ProgressCallback,
    RecognitionRequest,
    RecognizedSegment,
    RecognizedWord,
)
from dsac_asr.engines.regions import CollapsedAudio, collapse, find_speech, split_at_pauses
from dsac_asr.errors import DecodeTimeoutError, EngineError, InvalidOptionError, ModelError
from dsac_asr.models.languages import MULTILINGUAL, iso1_code
from dsac_asr.models.manifest import InstalledModel

SAMPLE_RATE_HZ = 16000
WINDOW_S = 30.0
PAUSE_S = 0.4
IDLE_S = 1.0
T = TypeVar("T")
_MIN_BUDGET_S = 30.0
_SENTENCE_ENDS = (".", "?", "!")


@dataclass(frozen=True)
class WhisperOptions:
    """Decoding settings shared by every request on one loaded model."""

    compute_type: str = "int8"
    cpu_threads: int = 0
    beam_size: int = 5
    budget_factor: float = 3.0
    batch_size: int = DEFAULT_BATCH_SIZE

    @property
    def batched(self) -> bool:
        """True when windows are decoded in batches rather than one after another."""
        return self.batch_size > 1


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
        if self.options.batched:
            window, pause = int(WINDOW_S * SAMPLE_RATE_HZ), int(PAUSE_S * SAMPLE_RATE_HZ)
            regions = split_at_pauses(samples, regions, window, pause)
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
        settings: dict[str, Any] = {
            "language": iso1_code(language),
            "beam_size": self.options.beam_size,
            "word_timestamps": True,
            "vad_filter": False,
            "condition_on_previous_text": False,
            "initial_prompt": request.domain_prompt,
            "hotwords": request.hotwords,
        }
        try:
            raw = self._decode(speech, settings)
            return self._collect(raw, speech, language, on_progress)
        except (RuntimeError, ValueError) as exc:
            raise EngineError(f"Whisper failed: {exc}") from exc

    def _decode(self, speech: CollapsedAudio, settings: dict[str, Any]) -> Iterable[Any]:
        """faster-whisper's (lazy) segments for the collapsed speech."""
        if not self.options.batched:
            raw, _info = self._model.transcribe(speech.samples, **settings)
            return cast(Iterable[Any], raw)
        return self._decode_batched(speech, settings)

    def _decode_batched(self, speech: CollapsedAudio, settings: dict[str, Any]) -> Iterator[Any]:
        """Segments of ``WINDOW_S`` windows decoded in batches: the first window
        alone, so that progress shows early, then ``batch_size`` at a time."""
        from faster_whisper import BatchedInferencePipeline

        pipeline = BatchedInferencePipeline(self._model)
        windows = [
            {"start": span.start / SAMPLE_RATE_HZ, "end": span.end / SAMPLE_RATE_HZ}
            for span in speech.spans(WINDOW_S)
        ]
        for part, size in ((windows[:1], 1), (windows[1:], self.options.batch_size)):
            if part:
                raw, _info = pipeline.transcribe(
                    speech.samples,
                    clip_timestamps=part,
                    batch_size=size,
                    without_timestamps=True,
                    **settings,
                )
                yield from raw

    def _collect(
        self,
        raw: Iterable[Any],
        speech: CollapsedAudio,
        language: str,
        on_progress: ProgressCallback | None,
    ) -> list[RecognizedSegment]:
        """Convert and filter segments as they come, reporting progress at least
        every ``IDLE_S`` and keeping to the time budget."""
        duration_s = len(speech.samples) / SAMPLE_RATE_HZ
        deadline = time.monotonic() + max(_MIN_BUDGET_S, self.options.budget_factor * duration_s)
        segments: list[RecognizedSegment] = []
        fraction = 0.0
        with closing(in_background(raw, IDLE_S)) as produced:
            for segment in produced:
                if time.monotonic() > deadline:
                    raise DecodeTimeoutError(
                        f"recognition exceeded its time budget on {duration_s:.0f} s of speech"
                    )
                if segment is not None:
                    segments.extend(self._kept(_convert(segment, language, speech)))
                    fraction = min(1.0, float(segment.end) / duration_s)
                if on_progress is not None:
                    on_progress(fraction)
        return segments

    def _kept(self, segment: RecognizedSegment | None) -> list[RecognizedSegment]:
        """``segment`` unless it is empty or a repetition loop; batched, its sentences
        (each checked again: a window may hold good speech and then a loop)."""
        if segment is None or is_runaway_repetition(segment):
            return []
        if not self.options.batched:
            return [segment]
        return [piece for piece in split_sentences(segment) if not is_runaway_repetition(piece)]

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


def in_background(items: Iterable[T], idle_s: float) -> Generator[T | None, None, None]:
    """``items``, produced on a worker thread; ``None`` whenever ``idle_s`` passes
    without one, so the caller can report progress (which renews a job's lease,
    notices cancellation) and keep its deadline during a long batch.

    An error in the worker is raised here. Closing the generator stops the
    worker after the item it is making and waits for it.
    """
    found: queue.Queue[tuple[str, Any]] = queue.Queue()
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                found.put(("item", item))
                if stop.is_set():
                    return
            found.put(("done", None))
        except Exception as exc:  # handed to the consumer, raised there
            found.put(("error", exc))

    worker = threading.Thread(target=produce, name="whisper-decode", daemon=True)
    worker.start()
    try:
        yield from _consume(found, idle_s)
    finally:
        stop.set()
        worker.join()


def _consume(found: queue.Queue[tuple[str, Any]], idle_s: float) -> Iterator[Any]:
    while True:
        try:
            kind, value = found.get(timeout=idle_s)
        except queue.Empty:
            yield None
            continue
        if kind == "error":
            raise value
        if kind == "done":
            return
        yield value


def split_sentences(segment: RecognizedSegment) -> list[RecognizedSegment]:
    """``segment`` cut after each word that ends a sentence.

    A batched window comes back as one segment of up to 30 s; cutting it into
    sentences gives segments like those of sequential decoding.
    """
    pieces: list[list[RecognizedWord]] = [[]]
    for word in segment.words:
        pieces[-1].append(word)
        if word.text.endswith(_SENTENCE_ENDS):
            pieces.append([])
    pieces = [piece for piece in pieces if piece]
    if len(pieces) <= 1:
        return [segment]
    return [
        RecognizedSegment(" ".join(w.text for w in piece), tuple(piece), segment.language)
        for piece in pieces
    ]


def is_runaway_repetition(segment: RecognizedSegment, min_words: int = 12) -> bool:
    """True for a hallucination loop: many words, few of them distinct."""
    words = [w.text.lower().strip(".,!?") for w in segment.words]
    return len(words) >= min_words and len(set(words)) / len(words) < 0.25
