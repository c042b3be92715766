"""The engine interface: audio samples in, timed words grouped in segments out."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

ProgressCallback = Callable[[float], None]
"""Called with the fraction (0..1) of the audio recognised so far."""


@dataclass(frozen=True)
class RecognizedWord:
    """A word as an engine recognised it, times relative to the audio given."""

    text: str
    start_s: float
    end_s: float
    confidence: float


@dataclass(frozen=True)
class RecognizedSegment:
    """Words an engine produced together, with the engine's own text for them."""

    text: str
    words: tuple[RecognizedWord, ...]
    language: str | None = None


@dataclass(frozen=True)
class RecognitionRequest:
    """What to recognise: language (ISO 639-3), an optional domain prompt and the
    caller's own ``prompt`` (Whisper reads the caller's after the domain's), and the
    decoding ``temperature`` (None: the engine's default). Kaldi and CTC engines
    ignore the prompts and the temperature.

    ``delegates``: for a multilingual request, the engine that decodes the regions
    identified as each language instead of this one (a model made for it)."""

    language: str
    domain_prompt: str | None = None
    hotwords: str | None = None
    candidate_languages: tuple[str, ...] = ()
    delegates: tuple[tuple[str, Engine], ...] = ()
    prompt: str | None = None
    temperature: float | None = None


class Engine(Protocol):
    """A loaded model that recognises mono float32 audio at ``sample_rate_hz``."""

    sample_rate_hz: int

    def recognize(
        self,
        samples: npt.NDArray[np.float32],
        request: RecognitionRequest,
        on_progress: ProgressCallback | None = None,
    ) -> list[RecognizedSegment]:
        """Recognise ``samples`` and return segments in time order."""
        ...


@runtime_checkable
class BatchRecognizer(Protocol):
    """An engine that recognises several short clips together, each on its own."""

    def recognize_many(
        self,
        clips: Sequence[npt.NDArray[np.float32]],
        request: RecognitionRequest,
        on_progress: ProgressCallback | None = None,
        share: Sequence[Hashable | None] | None = None,
    ) -> list[list[RecognizedSegment]]:
        """Each clip's segments, in the order of ``clips``, as ``recognize`` gives them;
        neighbouring clips with the same ``share`` key (not None) may share decoding."""
        ...
