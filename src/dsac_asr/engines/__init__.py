"""Recognition engines. Models load once per process and are reused."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from dsac_asr.config import DEFAULT_BATCH_SIZE
from dsac_asr.engines.base import (
    Engine,
    ProgressCallback,
    RecognitionRequest,
    RecognizedSegment,
    RecognizedWord,
)
from dsac_asr.models.manifest import InstalledModel

__all__ = [
    "Engine",
    "EngineLoader",
    "EngineOptions",
    "ProgressCallback",
    "RecognitionRequest",
    "RecognizedSegment",
    "RecognizedWord",
    "clear_engine_cache",
    "load_engine",
]


@dataclass(frozen=True)
class EngineOptions:
    """Process-wide engine settings (from ``Settings``).

    ``batch_size``: Whisper windows decoded together; 0 or 1 decodes them one
    after another (Whisper's sequential decoding).
    """

    compute_type: str = "int8"
    cpu_threads: int = 0
    budget_factor: float = 3.0
    batch_size: int = DEFAULT_BATCH_SIZE


_cache: dict[tuple[str, str, EngineOptions], Engine] = {}
_lock = threading.Lock()


def load_engine(model: InstalledModel, options: EngineOptions | None = None) -> Engine:
    """The engine for ``model``, loaded on first use and cached for the process."""
    options = options or EngineOptions()
    key = (model.id, str(model.path), options)
    with _lock:
        if key not in _cache:
            _cache[key] = _create(model, options)
        return _cache[key]


def _create(model: InstalledModel, options: EngineOptions) -> Engine:
    if model.manifest.engine == "kaldi":
        from dsac_asr.engines.kaldi import KaldiEngine

        return KaldiEngine(model)
    if model.manifest.engine == "ctc":
        from dsac_asr.engines.ctc import CtcEngine, CtcOptions

        return CtcEngine(model, CtcOptions(options.cpu_threads, options.batch_size))
    from dsac_asr.engines.whisper import WhisperEngine, WhisperOptions

    whisper_options = WhisperOptions(
        compute_type=options.compute_type,
        cpu_threads=options.cpu_threads,
        budget_factor=options.budget_factor,
        batch_size=options.batch_size,
    )
    return WhisperEngine(model, whisper_options)


EngineLoader = Callable[[InstalledModel, EngineOptions], Engine]
"""Gives the engine for a model: ``load_engine``, or a wrapper of it."""


def clear_engine_cache() -> None:
    """Forget every loaded engine (frees their memory once unreferenced)."""
    with _lock:
        _cache.clear()
