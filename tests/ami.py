"""The AMI dev excerpts beside the repository (``../shared/real-speech/ami-train``):
audio, reference speaker turns (``train.rttm``) and the annotated part (first 30 s)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

AMI_FOLDER = Path(__file__).resolve().parents[1] / ".." / "shared" / "real-speech" / "ami-train"
UEM_S = 30.0
"""Only the first 30 s of each excerpt are annotated (``train.uem``)."""
SAMPLE_RATE_HZ = 16000


@dataclass(frozen=True)
class Excerpt:
    """One excerpt's first ``UEM_S`` seconds and its reference (a pyannote ``Annotation``)."""

    name: str
    samples: npt.NDArray[np.float32]
    reference: object

    @property
    def speakers(self) -> int:
        """How many people speak in the annotated part."""
        return len(self.reference.labels())  # type: ignore[attr-defined]


def load_reference(rttm: Path) -> dict[str, object]:
    """pyannote annotations by file id from an RTTM file."""
    from pyannote.core import Annotation, Segment

    references: dict[str, Annotation] = {}
    for index, line in enumerate(rttm.read_text().splitlines()):
        fields = line.split()
        if not fields or fields[0] != "SPEAKER":
            continue
        name, start_s, duration_s, speaker = (
            fields[1],
            float(fields[3]),
            float(fields[4]),
            fields[7],
        )
        reference = references.setdefault(name, Annotation(uri=name))
        reference[Segment(start_s, start_s + duration_s), index] = speaker
    return dict(references)


def load_audio(path: Path) -> npt.NDArray[np.float32]:
    """The first ``UEM_S`` seconds of ``path`` as 16 kHz mono float32."""
    from dsac_asr.audio import decode
    from dsac_asr.config import MediaLimits

    audio = decode(path, SAMPLE_RATE_HZ, MediaLimits())
    return audio.mixed()[: int(UEM_S * SAMPLE_RATE_HZ)]


def load_excerpts(folder: Path = AMI_FOLDER, names: list[str] | None = None) -> list[Excerpt]:
    """The excerpts (all, or those named), in name order."""
    references = load_reference(folder / "train.rttm")
    chosen = names or sorted(references)
    return [Excerpt(n, load_audio(folder / f"{n}.wav"), references[n]) for n in chosen]
