"""Kaldi chain models through Vosk: a Vosk-layout model folder in, timed words out.

The Vosk ``Model`` (acoustic model, graph, i-vector extractor) is loaded once
and shared; every ``recognize`` call makes its own ``KaldiRecognizer``, so
calls from several threads do not share decoder state.

Kaldi graphs are compiled with a fixed vocabulary and language model, so the
request's ``domain_prompt``, ``prompt``, ``hotwords`` and ``temperature`` are
ignored by this engine: a
domain is served by importing a model built with that domain's graph.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import numpy.typing as npt

from dsac_asr.engines.base import (
    ProgressCallback,
    RecognitionRequest,
    RecognizedSegment,
    RecognizedWord,
)
from dsac_asr.errors import EngineError, InvalidOptionError, MissingExtraError, ModelError
from dsac_asr.models.manifest import InstalledModel

CHUNK_S = 0.4
"""Seconds of audio fed to the recogniser at a time."""


def _import_vosk() -> Any:
    """Import vosk (the ``kaldi`` extra), silenced, or say how to install it."""
    try:
        import vosk
    except ImportError as exc:
        raise MissingExtraError(
            "the Kaldi engine needs the kaldi extra: pip install 'dsac-asr[kaldi]'"
        ) from exc
    vosk.SetLogLevel(-1)
    return vosk


def _load_vosk_model(vosk: Any, model: InstalledModel) -> Any:
    """Load the Vosk model in ``model.path``, translating failures to ModelError."""
    if not model.path.is_dir():
        raise ModelError(f"Kaldi model {model.id!r}: folder {model.path} does not exist")
    try:
        return vosk.Model(str(model.path))
    except Exception as exc:
        raise ModelError(
            f"Kaldi model {model.id!r} in {model.path} cannot be loaded by vosk "
            f"(expected am/final.mdl, conf/, graph/ and ivector/): {exc}"
        ) from exc


def to_pcm16(samples: npt.NDArray[np.float32]) -> bytes:
    """Float samples in [-1, 1] as little-endian 16-bit PCM bytes (clipped)."""
    scaled = np.clip(samples, -1.0, 1.0) * 32767.0
    return np.round(scaled).astype("<i2").tobytes()


def _parse_word(item: dict[str, Any]) -> RecognizedWord:
    """One entry of Vosk's ``result`` list as a RecognizedWord."""
    confidence = min(max(float(item.get("conf", 1.0)), 0.0), 1.0)
    return RecognizedWord(
        text=str(item["word"]),
        start_s=float(item["start"]),
        end_s=float(item["end"]),
        confidence=confidence,
    )


def parse_result(payload: str, language: str | None) -> RecognizedSegment | None:
    """A Vosk ``Result()``/``FinalResult()`` JSON as a segment; None when empty."""
    try:
        data = json.loads(payload)
        words = tuple(_parse_word(item) for item in data.get("result", []))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise EngineError(f"vosk returned an unreadable result {payload[:200]!r}") from exc
    text = str(data.get("text", "")).strip()
    if not text and not words:
        return None
    text = text or " ".join(word.text for word in words)
    return RecognizedSegment(text=text, words=words, language=language)


class KaldiEngine:
    """A Kaldi chain model (Vosk layout) that recognises mono float32 audio.

    ``sample_rate_hz`` is the rate of the model's band (8 kHz or 16 kHz).
    """

    def __init__(self, model: InstalledModel) -> None:
        """Load ``model`` with vosk once; raise MissingExtraError or ModelError."""
        self.installed = model
        self.sample_rate_hz = model.manifest.band.sample_rate_hz
        self._language = model.manifest.languages[0] if model.manifest.languages else None
        self._vosk = _import_vosk()
        self._model = _load_vosk_model(self._vosk, model)

    def recognize(
        self,
        samples: npt.NDArray[np.float32],
        request: RecognitionRequest,
        on_progress: ProgressCallback | None = None,
    ) -> list[RecognizedSegment]:
        """Recognise ``samples`` (mono, at ``sample_rate_hz``) into timed segments.

        ``request.domain_prompt``, ``prompt``, ``hotwords`` and ``temperature``
        are ignored: the
        vocabulary is fixed by the model's graph.
        """
        if samples.ndim != 1:
            raise InvalidOptionError(f"expected mono samples, got shape {samples.shape}")
        with self._vosk_errors():
            recognizer = self._vosk.KaldiRecognizer(self._model, float(self.sample_rate_hz))
            recognizer.SetWords(True)
        payloads = self._feed(recognizer, samples, on_progress)
        segments = (parse_result(payload, self._language) for payload in payloads)
        return [segment for segment in segments if segment is not None]

    @contextmanager
    def _vosk_errors(self) -> Iterator[None]:
        """Translate any vosk failure inside the block into EngineError."""
        try:
            yield
        except Exception as exc:
            raise EngineError(f"vosk failed on model {self.installed.id!r}: {exc}") from exc

    def _feed(
        self,
        recognizer: Any,
        samples: npt.NDArray[np.float32],
        on_progress: ProgressCallback | None,
    ) -> list[str]:
        """Feed ``samples`` in chunks; return each endpointed result and the final one."""
        total = len(samples)
        step = max(1, int(self.sample_rate_hz * CHUNK_S))
        payloads: list[str] = []
        for start in range(0, total, step):
            with self._vosk_errors():
                if recognizer.AcceptWaveform(to_pcm16(samples[start : start + step])):
                    payloads.append(str(recognizer.Result()))
            if on_progress is not None:
                on_progress(min(start + step, total) / total)
        with self._vosk_errors():
            payloads.append(str(recognizer.FinalResult()))
        if on_progress is not None and total == 0:
            on_progress(1.0)
        return payloads
