"""pyannote.audio's full diarisation pipeline as a backend (the ``pyannote`` extra).

The pipeline (speaker-diarization-community-1 or -3.1) is loaded once per
process from a local folder an operator filled on a connected machine (see
``pyannote_folder`` and docs/diarization.md), with Hugging Face Hub offline
and pyannote's usage telemetry off: nothing leaves the machine. Its
``Annotation`` becomes our speaker turns.
"""

from __future__ import annotations

import importlib.util
import os
import threading
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from dsac_asr.diarization import MAX_AUTO_SPEAKERS, SpeakerTurn
from dsac_asr.diarization.pyannote_folder import resolved_config
from dsac_asr.errors import EngineError, MissingExtraError, ModelError
from dsac_asr.transcript import speaker_label

REQUIRED_MODULES = ("torch", "torchaudio", "pyannote.audio", "yaml")
INSTALL_HINT = (
    "the pyannote diarisation backend needs the pyannote extra, with torch and torchaudio "
    "of one release: pip install torch==2.9.1 torchaudio==2.9.1 --index-url "
    "https://download.pytorch.org/whl/cpu && pip install 'dsac-asr[pyannote]'"
)
MODEL_SETTING = "DSAC_DIARIZATION_MODEL"


class _Segment(Protocol):
    start: float
    end: float


class PyannoteDiarizer:
    """pyannote.audio's pipeline from the local folder ``model_dir``."""

    def __init__(self, model_dir: Path | None) -> None:
        self.model_dir = model_dir
        self._pipeline: Any = None
        self._lock = threading.Lock()
        self._run_lock = threading.Lock()

    def require_installed(self) -> None:
        """Raise ``MissingExtraError`` (with the install command) unless the extra is installed."""
        if not all(_installed(name) for name in REQUIRED_MODULES):
            raise MissingExtraError(INSTALL_HINT)

    def check(self) -> None:
        """Raise ``MissingExtraError`` or ``ModelError`` unless the extra is installed and
        the folder holds ``config.yaml`` and every checkpoint it names."""
        self.require_installed()
        resolved_config(self._folder())

    def diarize(
        self,
        samples: npt.NDArray[np.float32],
        sample_rate_hz: int,
        speakers: int | None,
        max_speakers: int = MAX_AUTO_SPEAKERS,
    ) -> list[SpeakerTurn]:
        """Speaker turns from pyannote's pipeline, labelled ``A``, ``B``, ... in order."""
        pipeline = self.load()
        import torch

        waveform = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))[None]
        counts = {"num_speakers": speakers} if speakers else {"max_speakers": max_speakers}
        try:
            with self._run_lock:  # one pipeline object, not known to be thread-safe
                output = pipeline({"waveform": waveform, "sample_rate": sample_rate_hz}, **counts)
        except (RuntimeError, ValueError) as exc:
            raise EngineError(f"pyannote diarisation failed: {exc}") from exc
        annotation = getattr(output, "speaker_diarization", output)  # 4.x: DiarizeOutput
        return annotation_turns(annotation.itertracks(yield_label=True))

    def load(self) -> Any:
        """The loaded pipeline (loaded on first use, then kept)."""
        with self._lock:
            if self._pipeline is None:
                self._pipeline = self._load_pipeline()
            return self._pipeline

    def _folder(self) -> Path:
        if self.model_dir is None:
            raise ModelError(
                f"the pyannote diarisation backend needs {MODEL_SETTING}: the local folder "
                "holding its config.yaml and checkpoints (see docs/diarization.md)"
            )
        return self.model_dir

    def _load_pipeline(self) -> Any:
        self.require_installed()
        config = resolved_config(self._folder())
        pyannote_pipeline = _import_offline()
        try:
            loaded = pyannote_pipeline.from_pretrained(config)
        except Exception as exc:  # pyannote, lightning and torch raise many kinds
            raise ModelError(
                f"the pyannote pipeline in {self.model_dir} cannot be loaded: {exc}"
            ) from exc
        if loaded is None:
            raise ModelError(f"the pyannote pipeline in {self.model_dir} cannot be loaded")
        return loaded


def annotation_turns(tracks: Iterable[tuple[_Segment, object, object]]) -> list[SpeakerTurn]:
    """Turns from pyannote's ``itertracks(yield_label=True)``, in time order, labels
    renamed ``A``, ``B``, ... in order of first appearance; empty segments dropped."""
    ordered = sorted(tracks, key=lambda track: (track[0].start, track[0].end))
    names: dict[object, str] = {}
    turns: list[SpeakerTurn] = []
    for segment, _track, label in ordered:
        if segment.end <= segment.start:
            continue
        name = names.setdefault(label, speaker_label(len(names)))
        turns.append(SpeakerTurn(float(segment.start), float(segment.end), name))
    return turns


def _import_offline() -> Any:
    """``pyannote.audio.Pipeline``, imported with Hugging Face Hub offline and
    pyannote's telemetry off (both read from the environment by those libraries)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["PYANNOTE_METRICS_ENABLED"] = "false"
    try:
        import huggingface_hub.constants

        with warnings.catch_warnings():  # audio comes in memory: its file decoder is not used
            warnings.filterwarnings("ignore", message="(?s).*torchcodec", category=UserWarning)
            from pyannote.audio import Pipeline
    except ImportError as exc:
        raise MissingExtraError(f"{INSTALL_HINT} ({exc})") from exc
    except OSError as exc:  # torchaudio's compiled part built for another torch
        raise MissingExtraError(
            f"torchaudio does not load with this torch ({exc}): {INSTALL_HINT}"
        ) from exc
    huggingface_hub.constants.HF_HUB_OFFLINE = True  # when it was imported before
    return Pipeline


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False
