"""Whisper through faster-whisper (CTranslate2), from a folder or split weights.

Speech regions found by Silero VAD are laid end to end with short gaps
(``regions.collapse``) and recognised either sequentially (Whisper's own
30 s sliding window) or batched: the collapsed audio is cut at region
boundaries into windows of at most 30 s, and ``batch_size`` windows are
decoded together by faster-whisper's ``BatchedInferencePipeline`` (a
region longer than a window is first cut at its quietest moments). Either
way word times are mapped back to the original audio. The collapsed audio is
never built whole: each group of windows (sequentially, each piece of at most
``PIECE_S``) is cut from the original audio when its turn comes, so a long file
costs little more than its decoded samples.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from dsac_asr.config import DEFAULT_BATCH_SIZE
from dsac_asr.engines.background import in_background
from dsac_asr.engines.base import (
    ProgressCallback,
    RecognitionRequest,
    RecognizedSegment,
    RecognizedWord,
)
from dsac_asr.engines.joint import JointSpeech, TimeMap, join_speech
from dsac_asr.engines.language_id import (
    delegating,
    identifiable,
    language_regions,
    recognize_by_region,
)
from dsac_asr.engines.regions import (
    CollapsedAudio,
    Region,
    SpeechSource,
    collapse,
    find_speech,
    split_at_pauses,
)
from dsac_asr.engines.segment_filters import is_runaway_repetition, split_sentences
from dsac_asr.engines.whisper_tokens import (
    decoding_code,
    known_codes,
    needs_wrapping,
    wrap_tokenizer,
)
from dsac_asr.errors import DecodeTimeoutError, EngineError, ModelError
from dsac_asr.heap import release_freed_memory
from dsac_asr.models.languages import MULTILINGUAL
from dsac_asr.models.manifest import InstalledModel

SAMPLE_RATE_HZ = 16000
WINDOW_S = 30.0
PAUSE_S = 0.4
IDLE_S = 1.0
GROUP_WINDOWS = 32
"""Windows handed to faster-whisper's batched pipeline at once (rounded up to whole
batches): it computes all their features first, about 2 MB a window."""
PIECE_S = 600.0
"""Longest stretch of collapsed speech handed to sequential decoding at once."""
_MIN_BUDGET_S = 30.0


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
        self._manifest, self._codes = model.manifest, known_codes()
        if needs_wrapping(self._manifest, self._codes):
            wrap_tokenizer(self._model, self._manifest)

    def recognize(
        self,
        samples: npt.NDArray[np.float32],
        request: RecognitionRequest,
        on_progress: ProgressCallback | None = None,
    ) -> list[RecognizedSegment]:
        """Recognise the speech regions of mono 16 kHz audio in the request's language
        (multilingual: each region in the language identified for it)."""
        if request.language == MULTILINGUAL:
            segments = self._recognize_multilingual(samples, request, on_progress)
        else:
            regions = self._speech_regions(samples)
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

    def recognize_many(
        self,
        clips: Sequence[npt.NDArray[np.float32]],
        request: RecognitionRequest,
        on_progress: ProgressCallback | None = None,
        share: Sequence[Hashable | None] | None = None,
    ) -> list[list[RecognizedSegment]]:
        """Recognise several mono 16 kHz clips in batches of windows. Each clip's
        speech is cut into windows as ``recognize`` cuts it (the words it gets
        alone), except that neighbours with the same ``share`` key are packed
        into shared windows (``joint.join_speech``). Sequential decoding
        (``batch_size`` 1) and multilingual requests recognise clips one by one."""
        if not self.options.batched or request.language == MULTILINGUAL:
            return [self.recognize(samples, request) for samples in clips]
        speeches = [collapse(c, self._speech_regions(c), SAMPLE_RATE_HZ) for c in clips]
        joint = join_speech(speeches, WINDOW_S, share)
        results: list[list[RecognizedSegment]] = [[] for _ in clips]
        if joint.windows:
            self._recognize_joint(joint, request, results, on_progress)
        if on_progress is not None:
            on_progress(1.0)
        return results

    def _recognize_joint(
        self,
        joint: JointSpeech,
        request: RecognitionRequest,
        results: list[list[RecognizedSegment]],
        on_progress: ProgressCallback | None,
    ) -> None:
        """Decode every window of ``joint`` and add each segment to its clip's results."""
        language = self._language_for(request)

        def take(segment: Any) -> None:
            for index, piece in _by_clip(segment, language, joint):
                results[index].extend(self._kept(piece))

        try:
            settings = self._settings(language, request)
            raw = self._decode_windows(self._pipeline(), joint, joint.windows, settings)
            self._gather(raw, joint.duration_s, on_progress, take)
        except (RuntimeError, ValueError) as exc:
            raise EngineError(f"Whisper failed: {exc}") from exc

    def _speech_regions(self, samples: npt.NDArray[np.float32]) -> list[Region]:
        """Speech regions of ``samples``, each cut at pauses to fit a window (batched)
        or a piece (sequential)."""
        regions = find_speech(samples, SAMPLE_RATE_HZ)
        longest_s = WINDOW_S if self.options.batched else PIECE_S
        longest, pause = int(longest_s * SAMPLE_RATE_HZ), int(PAUSE_S * SAMPLE_RATE_HZ)
        return split_at_pauses(samples, regions, longest, pause)

    def _settings(self, language: str, request: RecognitionRequest) -> dict[str, Any]:
        """faster-whisper's decoding options for ``request`` in ``language``: the
        domain's prompt then the caller's as ``initial_prompt`` (faster-whisper keeps
        the last 223 tokens, so the caller's survives a long domain prompt), and the
        caller's temperature when given (else faster-whisper's fallback ladder)."""
        settings: dict[str, Any] = {
            "language": decoding_code(self._manifest, language, self._codes),
            "beam_size": self.options.beam_size,
            "word_timestamps": True,
            "vad_filter": False,
            "condition_on_previous_text": False,
            "initial_prompt": initial_prompt(request),
            "hotwords": request.hotwords,
        }
        if request.temperature is not None:
            settings["temperature"] = request.temperature
        return settings

    def _recognize_regions(
        self,
        speech: CollapsedAudio,
        request: RecognitionRequest,
        on_progress: ProgressCallback | None,
    ) -> list[RecognizedSegment]:
        language = self._language_for(request)
        settings = self._settings(language, request)
        try:
            raw = self._decode(speech, settings)
            return self._collect(raw, speech, language, on_progress)
        except (RuntimeError, ValueError) as exc:
            raise EngineError(f"Whisper failed: {exc}") from exc

    def _decode(self, speech: CollapsedAudio, settings: dict[str, Any]) -> Iterable[Any]:
        """faster-whisper's (lazy) segments for the collapsed speech."""
        if not self.options.batched:
            return self._decode_sequential(speech, settings)
        return self._decode_batched(speech, settings)

    def _decode_sequential(self, speech: CollapsedAudio, settings: dict[str, Any]) -> Iterator[Any]:
        """Segments of Whisper's own sliding window, over pieces of at most ``PIECE_S``
        of the collapsed speech (whole regions; faster-whisper computes the features of
        all it is given at once: 4 h would cost several GB)."""
        for piece in speech.spans(PIECE_S):
            raw, _info = self._model.transcribe(speech.slice(piece.start, piece.end), **settings)
            yield from _shifted(cast(Iterable[Any], raw), piece.start / SAMPLE_RATE_HZ)

    def _decode_batched(self, speech: CollapsedAudio, settings: dict[str, Any]) -> Iterator[Any]:
        """Segments of ``WINDOW_S`` windows decoded in batches: the first window
        alone, so that progress shows early, then ``batch_size`` at a time."""
        windows = speech.spans(WINDOW_S)
        yield from self._decode_windows(self._pipeline(), speech, windows, settings, True)

    def _pipeline(self) -> Any:
        """A batched pipeline (it carries word-timing state from window to window)."""
        from faster_whisper import BatchedInferencePipeline

        return BatchedInferencePipeline(self._model)

    def _decode_windows(
        self,
        pipeline: Any,
        audio: SpeechSource,
        windows: Sequence[Region],
        settings: dict[str, Any],
        first_alone: bool = False,
    ) -> Iterator[Any]:
        """``pipeline``'s segments for ``windows`` of ``audio``, a group at a time (see
        ``_groups``), each given only its own stretch of the audio. The end of the
        last speech found is carried from group to group, as within one call."""
        last_end_s = 0.0
        for group, batch_size in _groups(windows, self.options.batch_size, first_alone):
            start_s = group[0].start / SAMPLE_RATE_HZ
            _carry_speech_end(pipeline, last_end_s - start_s)
            for segment in self._decode_group(pipeline, audio, group, settings, batch_size):
                if segment.words:
                    last_end_s = float(segment.end)
                yield segment
            release_freed_memory()  # the group's audio and features

    def _decode_group(
        self,
        pipeline: Any,
        audio: SpeechSource,
        windows: Sequence[Region],
        settings: dict[str, Any],
        batch_size: int,
    ) -> Iterator[Any]:
        """``pipeline``'s segments for ``windows``, given the stretch of ``audio`` they
        span; times come back in ``audio``'s."""
        start = windows[0].start
        clips = [
            {"start": (w.start - start) / SAMPLE_RATE_HZ, "end": (w.end - start) / SAMPLE_RATE_HZ}
            for w in windows
        ]
        raw, _info = pipeline.transcribe(
            audio.slice(start, windows[-1].end),
            clip_timestamps=clips,
            batch_size=batch_size,
            without_timestamps=True,
            **settings,
        )
        yield from _shifted(raw, start / SAMPLE_RATE_HZ)

    def _collect(
        self,
        raw: Iterable[Any],
        speech: CollapsedAudio,
        language: str,
        on_progress: ProgressCallback | None,
    ) -> list[RecognizedSegment]:
        """Convert and filter segments as they come (see ``_gather``)."""
        segments: list[RecognizedSegment] = []

        def take(segment: Any) -> None:
            segments.extend(self._kept(_convert(segment, language, speech)))

        self._gather(raw, speech.length / SAMPLE_RATE_HZ, on_progress, take)
        return segments

    def _gather(
        self,
        raw: Iterable[Any],
        duration_s: float,
        on_progress: ProgressCallback | None,
        take: Callable[[Any], None],
    ) -> None:
        """Hand each segment to ``take`` as it comes, reporting progress at least
        every ``IDLE_S`` and keeping to the time budget of ``duration_s`` of speech."""
        deadline = time.monotonic() + max(_MIN_BUDGET_S, self.options.budget_factor * duration_s)
        fraction = 0.0
        with closing(in_background(raw, IDLE_S)) as produced:
            for segment in produced:
                if time.monotonic() > deadline:
                    raise DecodeTimeoutError(
                        f"recognition exceeded its time budget on {duration_s:.0f} s of speech"
                    )
                if segment is not None:
                    take(segment)
                    fraction = min(1.0, float(segment.end) / duration_s)
                if on_progress is not None:
                    on_progress(fraction)

    def _kept(self, segment: RecognizedSegment | None) -> list[RecognizedSegment]:
        """``segment`` unless it is empty or a repetition loop; batched, its sentences
        (each checked again: a window may hold good speech and then a loop)."""
        if segment is None or is_runaway_repetition(segment):
            return []
        if not self.options.batched:
            return [segment]
        return [piece for piece in split_sentences(segment) if not is_runaway_repetition(piece)]

    def _language_for(self, request: RecognitionRequest) -> str:
        """The request's language, which the model must have a token for (a multilingual
        request reaches decoding region by region, each with its identified language)."""
        decoding_code(self._manifest, request.language, self._codes)
        return request.language

    def _recognize_multilingual(
        self,
        samples: npt.NDArray[np.float32],
        request: RecognitionRequest,
        on_progress: ProgressCallback | None,
    ) -> list[RecognizedSegment]:
        """Each speech region identified among the request's candidates and
        decoded in its language (see ``language_id``)."""
        candidates = identifiable(request.candidate_languages, self._model.supported_languages)
        window, pause = int(WINDOW_S * SAMPLE_RATE_HZ), int(PAUSE_S * SAMPLE_RATE_HZ)
        regions = language_regions(samples, SAMPLE_RATE_HZ, window, pause)
        return recognize_by_region(
            samples,
            regions,
            SAMPLE_RATE_HZ,
            replace(request, candidate_languages=candidates),
            self.language_scores,
            delegating(self._recognize_regions, request),
            on_progress,
        )

    def language_scores(self, clip: npt.NDArray[np.float32]) -> list[tuple[str, float]]:
        """Whisper's probability of each language it knows, for the first 30 s of ``clip``.

        Unlike faster-whisper's ``detect_language``, a short clip is not padded to
        30 s: the encoder then costs a fraction of a window, and on the test speech
        the languages found were as good (see ``bench/multilingual.py``).
        """
        extractor = self._model.feature_extractor
        features = extractor(clip)[:, : extractor.nb_max_frames]
        try:
            found = self._model.model.detect_language(self._model.encode(features))[0]
        except (RuntimeError, ValueError) as exc:
            raise EngineError(f"Whisper failed: {exc}") from exc
        return [(str(token)[2:-2], float(probability)) for token, probability in found]


def _groups(
    windows: Sequence[Region], batch_size: int, first_alone: bool
) -> Iterator[tuple[Sequence[Region], int]]:
    """The windows to hand faster-whisper's batched pipeline at once, with the batch size
    to decode them in: the first window alone when asked (progress shows early), then
    about ``GROUP_WINDOWS`` at a time in whole batches. The pipeline computes all the
    features of what it is given before decoding any: 4 h at once would cost 1 GB."""
    if first_alone and windows:
        yield windows[:1], 1
        windows = windows[1:]
    group = batch_size * -(-GROUP_WINDOWS // batch_size)
    for first in range(0, len(windows), group):
        yield windows[first : first + group], batch_size


def _carry_speech_end(pipeline: Any, end_s: float) -> None:
    """Tell ``pipeline`` where the last speech it decoded ended, in the coming audio's
    time: faster-whisper keeps it from batch to batch to trim a first word that runs
    long after a pause, and resets it when a call's segments are all given."""
    if hasattr(pipeline, "last_speech_timestamp"):
        pipeline.last_speech_timestamp = end_s


def _shifted(raw: Iterable[Any], offset_s: float) -> Iterator[Any]:
    """faster-whisper's segments (and their words) moved ``offset_s`` later."""
    for segment in raw:
        if not offset_s:
            yield segment
            continue
        words = [
            replace(w, start=w.start + offset_s, end=w.end + offset_s) for w in segment.words or ()
        ]
        yield replace(
            segment,
            start=segment.start + offset_s,
            end=segment.end + offset_s,
            words=words if segment.words is not None else None,
        )


def _by_clip(
    segment: Any, language: str, joint: JointSpeech
) -> list[tuple[int, RecognizedSegment | None]]:
    """A decoded segment of joint audio as the pieces of it each clip holds."""
    clips = {joint.clip_at((float(w.start) + float(w.end)) / 2) for w in segment.words or ()}
    if len(clips) <= 1:
        index = clips.pop() if clips else 0
        return [(index, _convert(segment, language, joint.times_of(index)))]
    pieces: dict[int, list[RecognizedWord]] = {}
    for word in segment.words:
        start_s, end_s, text = float(word.start), float(word.end), word.word.strip()
        index = joint.clip_at((start_s + end_s) / 2)
        if text:
            times = joint.times_of(index)
            pieces.setdefault(index, []).append(
                _word(text, start_s, end_s, float(word.probability), times)
            )
    return [
        (index, RecognizedSegment(" ".join(w.text for w in words), tuple(words), language))
        for index, words in pieces.items()
    ]


def _convert(segment: Any, language: str, speech: TimeMap) -> RecognizedSegment | None:
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
    text: str, start_s: float, end_s: float, probability: float, speech: TimeMap
) -> RecognizedWord:
    start_s, end_s = speech.to_original(start_s, end_s)
    return RecognizedWord(text, round(start_s, 3), round(end_s, 3), probability)


def initial_prompt(request: RecognitionRequest) -> str | None:
    """Whisper's prompt for ``request``: the domain's text, then the caller's."""
    parts = [p.strip() for p in (request.domain_prompt, request.prompt) if p and p.strip()]
    return " ".join(parts) or None
