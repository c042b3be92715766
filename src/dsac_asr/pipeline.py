"""The transcription pipeline: media file in, typed transcript out.

The CLI calls it in-process; the job service calls the same code in workers.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from dsac_asr.audio import DecodedAudio, MediaInfo, choose_separate, decode, probe
from dsac_asr.audio.budget import (
    SharedBudget,
    check_mode,
    decoded_bytes,
    job_bytes,
    output_channels,
)
from dsac_asr.config import MediaLimits, Settings
from dsac_asr.diarization import SpeakerTurn, assign_speakers
from dsac_asr.diarization.backends import BuiltinDiarizer, Diarizer, diarizer_for
from dsac_asr.engines import (
    Engine,
    EngineLoader,
    EngineOptions,
    RecognitionRequest,
    RecognizedSegment,
    load_engine,
)
from dsac_asr.errors import DsacError, InvalidOptionError
from dsac_asr.heap import large_blocks_mapped, release_freed_memory
from dsac_asr.models.languages import MULTILINGUAL, SOUTH_AFRICAN, normalize_language
from dsac_asr.models.manifest import Band
from dsac_asr.models.registry import ModelRegistry, Route, RouteRequest
from dsac_asr.options import MAX_PROMPT_CHARS
from dsac_asr.options import TranscriptionOptions as TranscriptionOptions  # re-exported
from dsac_asr.transcript import (
    Segment,
    SpeakerSpan,
    Transcript,
    Word,
    merge_channels,
    speaker_label,
)
from dsac_asr.transcript.casing import without_punctuation
from dsac_asr.transcript.restore import restore_punctuation
from dsac_asr.transcript.speaker_spans import channel_turns, named_like_words
from dsac_asr.transcript.spellings import OPERATOR_FILE_NAME, load_spellings
from dsac_asr.transcript.truecasing import caser_for

ProgressCallback = Callable[[float], None]
_DECODE_SHARE = 0.05
MAPPED_FROM_S = 3600.0
"""Diarised recordings this long keep large blocks mapped (see ``_heap_for``)."""


@dataclass(frozen=True)
class Pipeline:
    """Everything a transcription needs besides its input and options."""

    registry: ModelRegistry
    limits: MediaLimits = field(default_factory=MediaLimits)
    engine_options: EngineOptions = field(default_factory=EngineOptions)
    engine_for: EngineLoader = load_engine  # a batch of jobs passes one that pools recognitions
    diarizer: Diarizer = field(default_factory=BuiltinDiarizer)
    shared_budget: SharedBudget | None = None
    """The process's memory budget, shared by jobs that run together (a worker's);
    ``None``: one transcription at a time (the CLI)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> Pipeline:
        """A pipeline configured by ``settings``."""
        return cls(
            registry=ModelRegistry(settings.resolved_models_dir),
            limits=settings.media_limits,
            engine_options=EngineOptions(
                compute_type=settings.compute_type,
                cpu_threads=settings.cpu_threads,
                budget_factor=settings.decode_budget_factor,
                batch_size=settings.batch_size,
            ),
            diarizer=diarizer_for(settings.diarization_backend, settings.diarization_model),
            shared_budget=SharedBudget(settings.media_limits.max_decoded_bytes),
        )

    def plan(self, path: Path, options: TranscriptionOptions) -> tuple[MediaInfo, Route]:
        """Probe ``path`` and choose its model, without decoding it."""
        language = normalize_language(options.language)
        check_mode(options.channels)
        _check_diarization(options, self.diarizer)
        _check_decoding(options)
        info = probe(path, self.limits)
        band = _band_for(options.band, info)
        request = RouteRequest(language, band, options.domain, options.model)
        return info, self.registry.route(request)

    def transcribe(
        self,
        path: Path,
        options: TranscriptionOptions,
        on_progress: ProgressCallback | None = None,
    ) -> Transcript:
        """Transcribe the media file at ``path``."""
        report = on_progress or (lambda _fraction: None)
        info, route = self.plan(path, options)
        with self._reservation(info, route, options, report):
            transcript = self._transcribe_planned(path, options, info, route, report)
        return self._punctuation(transcript, route, options.punctuate)

    def _reservation(
        self, info: MediaInfo, route: Route, options: TranscriptionOptions, report: ProgressCallback
    ) -> AbstractContextManager[None]:
        """This transcription's share of the process's budget, priced from the declared
        duration (see ``audio.budget.job_bytes``); waiting for it reports no progress
        every second, which renews a job's lease and notices its cancellation."""
        if self.shared_budget is None:
            return nullcontext()
        decoded = None
        if info.duration_s is not None:
            rate = route.sample_rate_hz
            channels = output_channels(
                options.channels, info.channels, info.duration_s, rate, self.limits
            )
            decoded = decoded_bytes(info.duration_s, rate, channels)
        return self.shared_budget.reserved(job_bytes(decoded, self.limits), lambda: report(0.0))

    def _transcribe_planned(
        self,
        path: Path,
        options: TranscriptionOptions,
        info: MediaInfo,
        route: Route,
        report: ProgressCallback,
    ) -> Transcript:
        """Decode, diarise and recognise ``path`` as planned (punctuation aside)."""
        audio = decode(
            path,
            route.sample_rate_hz,
            self.limits,
            lambda f: report(f * _DECODE_SHARE),
            channel_mode=options.channels,
        )
        separate = choose_separate(options.channels, info, audio)
        engine = self.engine_for(route.model, self.engine_options)
        request = self._with_delegates(_recognition_request(route, options), route)
        with _heap_for(audio, options):
            turns = _speaker_turns(self.diarizer, audio, options, separate)
            release_freed_memory()  # diarisation's temporaries, before recognition
            segments = _with_speakers(_recognize(engine, audio, request, separate, report), turns)
        report(1.0)
        assembled = _assemble(segments, route, info, audio, separate)
        return _noted_speakers(assembled, turns, separate)

    def _with_delegates(self, request: RecognitionRequest, route: Route) -> RecognitionRequest:
        """A multilingual request with, for each candidate language, the Whisper model made
        for it when one is installed (it decodes the regions identified as that language;
        loaded directly, never through a pool: it runs inside the routed engine's call)."""
        if not request.candidate_languages:
            return request
        return replace(request, delegates=tuple(self._delegates(request, route)))

    def _delegates(self, request: RecognitionRequest, route: Route) -> list[tuple[str, Engine]]:
        found: list[tuple[str, Engine]] = []
        for language in request.candidate_languages:
            wanted = RouteRequest(language, route.model.manifest.band, route.domain)
            try:
                model = self.registry.route(wanted).model
            except DsacError:
                continue
            if model.id != route.model.id and model.manifest.engine == "whisper":
                found.append((language, load_engine(model, self.engine_options)))
        return found

    def _punctuation(self, transcript: Transcript, route: Route, punctuate: bool) -> Transcript:
        """Plain words without ``punctuate``; else punctuation restored where the engine
        writes none (spelling list: shipped plus ``<models dir>/spellings.txt``)."""
        if not punctuate:
            return without_punctuation(transcript)
        if route.model.manifest.writes_punctuation:
            return transcript
        spellings = load_spellings([self.registry.models_dir / OPERATOR_FILE_NAME])
        return restore_punctuation(transcript, spellings, caser_for(transcript.language))


def _check_diarization(options: TranscriptionOptions, diarizer: Diarizer) -> None:
    """A speaker count below one, or diarisation that cannot run (its extra missing,
    its model folder incomplete), fails before any work."""
    if options.speakers is not None and options.speakers < 1:
        raise InvalidOptionError(f"speakers must be at least 1, not {options.speakers}")
    if options.diarize:
        diarizer.check()


def _check_decoding(options: TranscriptionOptions) -> None:
    """A prompt longer than ``MAX_PROMPT_CHARS`` or a temperature outside 0..1 fails
    before any work."""
    if options.prompt is not None and len(options.prompt) > MAX_PROMPT_CHARS:
        raise InvalidOptionError(f"prompt must be at most {MAX_PROMPT_CHARS} characters")
    if options.temperature is not None and not 0.0 <= options.temperature <= 1.0:
        raise InvalidOptionError(f"temperature must be between 0 and 1, not {options.temperature}")


def _speaker_turns(
    diarizer: Diarizer, audio: DecodedAudio, options: TranscriptionOptions, separate: bool
) -> list[SpeakerTurn] | None:
    """Who speaks when in the mixed audio, when diarisation is asked for; ``None``
    otherwise, and for channels recognised separately (each is its own speaker)."""
    if not options.diarize or separate:
        return None
    return diarizer.diarize(audio.mixed(), audio.sample_rate_hz, options.speakers)


def _with_speakers(
    segments: tuple[Segment, ...], turns: list[SpeakerTurn] | None
) -> tuple[Segment, ...]:
    return segments if turns is None else assign_speakers(segments, turns)


def _noted_speakers(
    transcript: Transcript, turns: list[SpeakerTurn] | None, separate: bool
) -> Transcript:
    """The transcript with its speaker turns (named like its words) and, when
    diarised, ``metadata["speakers"]``: how many speakers the words have.

    Channels recognised ``separate``-ly are not diarised: their turns are each
    channel's words joined across short pauses (no better record of a channel's
    speech survives recognition).
    """
    if separate:
        return replace(transcript, speaker_turns=channel_turns(transcript.segments))
    if turns is None:
        return transcript
    metadata = {**transcript.metadata, "speakers": str(len(transcript.speakers))}
    spans = [SpeakerSpan(t.start_s, t.end_s, t.speaker) for t in turns]
    named = named_like_words(spans, transcript.segments)
    return replace(transcript, metadata=metadata, speaker_turns=named)


def _band_for(band: str, info: MediaInfo) -> Band:
    if band.strip().lower() != "auto":
        try:
            return Band.parse(band)
        except ValueError as exc:
            raise InvalidOptionError(str(exc)) from exc
    return Band.NB if info.sample_rate_hz <= 8000 else Band.BB


def _heap_for(audio: DecodedAudio, options: TranscriptionOptions) -> AbstractContextManager[None]:
    """Large blocks kept mapped while a long recording is diarised and recognised:
    4 h of speech with speakers peaked 1.38 GB above idle so, 1.62 GB without (1.54 GB
    when only diarisation had it); shorter ones keep glibc's own threshold, as mapping
    afresh made Whisper's decoding about 10% slower."""
    if options.diarize and audio.duration_s >= MAPPED_FROM_S:
        return large_blocks_mapped()
    return nullcontext()


def _recognition_request(route: Route, options: TranscriptionOptions) -> RecognitionRequest:
    """What the engine is asked: the route's language and domain prompt, the caller's
    prompt and temperature (Whisper uses them; Kaldi and CTC engines ignore them)."""
    request = RecognitionRequest(
        route.language,
        domain_prompt=route.domain_prompt,
        prompt=options.prompt or None,
        temperature=options.temperature,
    )
    if route.language != MULTILINGUAL:
        return request
    candidates = multilingual_candidates(route.model.manifest.languages)
    return replace(request, candidate_languages=candidates)


def multilingual_candidates(model_languages: list[str]) -> tuple[str, ...]:
    """The languages ``mul`` may find with a model: its South African languages
    (every South African language when it declares ``mul`` itself)."""
    if MULTILINGUAL in model_languages:
        return tuple(lang.code for lang in SOUTH_AFRICAN)
    south_african = {lang.code for lang in SOUTH_AFRICAN}
    return tuple(code for code in model_languages if code in south_african)


def _recognize(
    engine: Engine,
    audio: DecodedAudio,
    request: RecognitionRequest,
    separate: bool,
    report: ProgressCallback,
) -> tuple[Segment, ...]:
    if not separate:
        return _run(engine, audio.mixed(), request, None, _span(report, 0, 1))
    count = audio.channel_count
    return merge_channels(
        [
            _run(engine, audio.channel(i), request, speaker_label(i), _span(report, i, count))
            for i in range(count)
        ]
    )


def _span(report: ProgressCallback, index: int, count: int) -> ProgressCallback:
    """Map one channel's 0..1 progress onto its share of the whole job."""
    share = (1.0 - _DECODE_SHARE) / count
    return lambda fraction: report(_DECODE_SHARE + share * (index + fraction))


def _run(
    engine: Engine,
    samples: npt.NDArray[np.float32],
    request: RecognitionRequest,
    speaker: str | None,
    report: ProgressCallback,
) -> tuple[Segment, ...]:
    recognized = engine.recognize(samples, request, report)
    return tuple(_to_segment(segment, speaker) for segment in recognized)


def _to_segment(segment: RecognizedSegment, speaker: str | None) -> Segment:
    words = tuple(
        Word(w.text, w.start_s, w.end_s, w.confidence, speaker, segment.language)
        for w in segment.words
    )
    return Segment(words=words, text=segment.text, speaker=speaker)


def _assemble(
    segments: tuple[Segment, ...],
    route: Route,
    info: MediaInfo,
    audio: DecodedAudio,
    separate: bool,
) -> Transcript:
    found = sorted({w.language for s in segments for w in s.words if w.language})
    language = found[0] if route.language == MULTILINGUAL and len(found) == 1 else route.language
    metadata = {
        "band": route.model.manifest.band.value,
        "source_sample_rate_hz": str(info.sample_rate_hz),
        "source_channels": str(info.channels),
        "channels": "separate" if separate else "mix",
        "languages_found": ",".join(found),
    }
    if route.notes:
        metadata["notes"] = "; ".join(route.notes)
    if route.domain:
        metadata["domain"] = route.domain
    return Transcript(segments, language, route.model.id, round(audio.duration_s, 3), metadata)
