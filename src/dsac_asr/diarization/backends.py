"""Which diarisation runs: the built-in one, or pyannote.audio's full pipeline.

``DSAC_DIARIZATION_BACKEND`` (``builtin`` or ``pyannote``) and
``DSAC_DIARIZATION_MODEL`` (pyannote's local folder) are read at the entry
points and turned into a ``Diarizer`` by ``diarizer_for``; the pipeline only
sees the ``Diarizer``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from dsac_asr.diarization import MAX_AUTO_SPEAKERS, SpeakerTurn, diarize, require_diarization
from dsac_asr.errors import InvalidOptionError

BUILTIN = "builtin"
PYANNOTE = "pyannote"
BACKENDS = (BUILTIN, PYANNOTE)


class Diarizer(Protocol):
    """Who speaks when in mono audio."""

    def require_installed(self) -> None:
        """Raise ``MissingExtraError`` (saying how to install it) unless the backend's
        packages are installed; cheap, imports nothing."""

    def check(self) -> None:
        """Raise now, before any work, if diarising cannot run: a missing extra,
        or (pyannote) a model folder that is missing or incomplete."""

    def diarize(
        self,
        samples: npt.NDArray[np.float32],
        sample_rate_hz: int,
        speakers: int | None,
        max_speakers: int = MAX_AUTO_SPEAKERS,
    ) -> list[SpeakerTurn]:
        """Speaker turns labelled ``A``, ``B``, ... in order of first appearance;
        ``speakers`` is the known count, or ``None`` to estimate it (at most ``max_speakers``)."""


@dataclass(frozen=True)
class BuiltinDiarizer:
    """dsac-asr's own diarisation (the ``diarization`` extra)."""

    def require_installed(self) -> None:
        """Raise ``MissingExtraError`` unless the ``diarization`` extra is installed."""
        require_diarization()

    def check(self) -> None:
        """Raise ``MissingExtraError`` unless the ``diarization`` extra is installed."""
        require_diarization()

    def diarize(
        self,
        samples: npt.NDArray[np.float32],
        sample_rate_hz: int,
        speakers: int | None,
        max_speakers: int = MAX_AUTO_SPEAKERS,
    ) -> list[SpeakerTurn]:
        """``dsac_asr.diarization.diarize``."""
        return diarize(samples, sample_rate_hz, speakers, max_speakers)


def diarizer_for(backend: str, model_dir: Path | None = None) -> Diarizer:
    """The diarizer ``backend`` names (``builtin`` or ``pyannote``, whose local folder
    is ``model_dir``). Raises ``InvalidOptionError`` for another name."""
    name = backend.strip().lower()
    if name == BUILTIN:
        return BuiltinDiarizer()
    if name == PYANNOTE:
        from dsac_asr.diarization.pyannote_backend import PyannoteDiarizer

        return PyannoteDiarizer(model_dir)
    accepted = ", ".join(BACKENDS)
    raise InvalidOptionError(f"unknown diarisation backend {backend!r}; accepted: {accepted}")
