"""The transcription pipeline: media file in, typed transcript out.

The CLI calls it in-process; the job service calls the same code in workers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from dsac_asr.audio import DecodedAudio, MediaInfo, choose_separate, decode, probe
from dsac_asr.config import MediaLimits, Settings
from dsac_asr.engines import (
    Engine,
    EngineOptions,
    RecognitionRequest,
    RecognizedSegment,
    load_engine,
)
from dsac_asr.errors import InvalidOptionError
from dsac_asr.models.languages import MULTILINGUAL, SOUTH_AFRICAN, normalize_language
from dsac_asr.models.manifest import Band
from dsac_asr.models.registry import ModelRegistry, Route, RouteRequest
from dsac_asr.transcript import Segment, Transcript, Word, merge_channels, speaker_label
from dsac_asr.transcript.casing import without_punctuation

ProgressCallback = Callable[[float], None]
_DECODE_SHARE = 0.05
CHANNEL_MODES = ("auto", "mix", "separate")


@dataclass(frozen=True)
class TranscriptionOptions:
    """What one transcription asks for (the CLI's flags, a job's options)."""

    language: str = "eng"
    band: str = "auto"
    channels: str = "auto"
    domain: str | None = None
    model_id: str | None = None
    punctuate: bool = True


@dataclass(frozen=True)
class Pipeline:
    """Everything a transcription needs besides its input and options."""

    registry: ModelRegistry
    limits: MediaLimits = field(default_factory=MediaLimits)
    engine_options: EngineOptions = field(default_factory=EngineOptions)

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
        )

    def plan(self, path: Path, options: TranscriptionOptions) -> tuple[MediaInfo, Route]:
        """Probe ``path`` and choose its model, without decoding it."""
        language = normalize_language(options.language)
        if options.channels not in CHANNEL_MODES:
            raise InvalidOptionError(f"channels must be one of {', '.join(CHANNEL_MODES)}")
        info = probe(path, self.limits)
        band = _band_for(options.band, info)
        request = RouteRequest(language, band, options.domain, options.model_id)
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
        audio = decode(path, route.sample_rate_hz, self.limits, lambda f: report(f * _DECODE_SHARE))
        separate = choose_separate(options.channels, info, audio)
        engine = load_engine(route.model, self.engine_options)
        request = _recognition_request(route)
        segments = _recognize(engine, audio, request, separate, report)
        report(1.0)
        transcript = _assemble(segments, route, info, audio, separate)
        return transcript if options.punctuate else without_punctuation(transcript)


def _band_for(band: str, info: MediaInfo) -> Band:
    if band.strip().lower() != "auto":
        try:
            return Band.parse(band)
        except ValueError as exc:
            raise InvalidOptionError(str(exc)) from exc
    return Band.NB if info.sample_rate_hz <= 8000 else Band.BB


def _recognition_request(route: Route) -> RecognitionRequest:
    prompt = route.domain_prompt
    if route.language != MULTILINGUAL:
        return RecognitionRequest(language=route.language, domain_prompt=prompt)
    south_african = {lang.code for lang in SOUTH_AFRICAN}
    candidates = tuple(c for c in route.model.manifest.languages if c in south_african)
    return RecognitionRequest(MULTILINGUAL, domain_prompt=prompt, candidate_languages=candidates)


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
