"""Local speaker activity by pyannote's segmentation-3.0 model, chunk by chunk.

The model reads 10 s of 16 kHz audio and says, for each of its 589 frames
(16.9 ms apart), which of up to three speakers of that chunk speak (at most
two at once: its output is a "powerset" of those classes). Chunks slide over
the recording ``step_s`` apart; a speaker of one chunk is not the same
speaker's index in the next, so the clustering step links them.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import numpy.typing as npt

from dsac_asr.diarization.runtime import Runner

SAMPLE_RATE_HZ = 16000
CHUNK_S = 10.0
LOCAL_SPEAKERS = 3
MAX_PER_FRAME = 2
BATCH = 8

Floats = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Segmentation:
    """Binary activity of each chunk's local speakers.

    ``activity[c, f, s]`` is 1 when local speaker ``s`` of chunk ``c`` speaks in
    its frame ``f``; chunk ``c`` starts at global frame ``offsets[c]`` of a grid
    of ``frame_step_s`` frames covering ``frame_count`` frames.
    """

    activity: Floats
    offsets: npt.NDArray[np.int64]
    frame_step_s: float
    frame_duration_s: float
    frame_count: int

    @property
    def frames_per_chunk(self) -> int:
        """Frames in one chunk."""
        return int(self.activity.shape[1])

    def frame_time_s(self, frame: int) -> float:
        """The centre of global frame ``frame`` in seconds."""
        return frame * self.frame_step_s + self.frame_duration_s / 2


def powerset_mapping(classes: int = LOCAL_SPEAKERS, most: int = MAX_PER_FRAME) -> Floats:
    """Rows: the powerset classes (silence, each speaker, each pair); columns: speakers."""
    rows = [
        [1.0 if speaker in chosen else 0.0 for speaker in range(classes)]
        for size in range(most + 1)
        for chosen in combinations(range(classes), size)
    ]
    return np.asarray(rows, dtype=np.float32)


def chunk_starts(samples: int, chunk: int, step: int) -> list[int]:
    """Sample offsets of the chunks: every ``step``, the last one ending at the end."""
    if samples <= chunk:
        return [0]
    starts = list(range(0, samples - chunk + 1, step))
    if starts[-1] + chunk < samples:
        starts.append(samples - chunk)
    return starts


class Segmenter:
    """segmentation-3.0 on CPU, applied to a whole recording.

    ``run`` maps (batch, 1, samples) audio to (batch, frames, 7) powerset logits;
    ``frame_step_s`` and ``frame_duration_s`` are the model's output frames."""

    def __init__(self, run: Runner, frame_step_s: float, frame_duration_s: float) -> None:
        self._run = run
        self._mapping = powerset_mapping()
        self.frame_step_s = frame_step_s
        self.frame_duration_s = frame_duration_s

    def __call__(self, audio: Floats, step_s: float) -> Segmentation:
        """The local speaker activity of 16 kHz ``audio`` in chunks ``step_s`` apart."""
        chunk = int(CHUNK_S * SAMPLE_RATE_HZ)
        starts = chunk_starts(len(audio), chunk, int(step_s * SAMPLE_RATE_HZ))
        padded = audio if len(audio) >= chunk else np.pad(audio, (0, chunk - len(audio)))
        pieces = [padded[start : start + chunk] for start in starts]
        activity = np.concatenate(
            [self._activity(np.stack(pieces[i : i + BATCH])) for i in range(0, len(pieces), BATCH)]
        )
        offsets = np.asarray([round(s / SAMPLE_RATE_HZ / self.frame_step_s) for s in starts])
        frame_count = max(1, int(np.ceil(len(audio) / SAMPLE_RATE_HZ / self.frame_step_s)))
        frame_count = max(frame_count, int(offsets[-1]) + activity.shape[1])
        return Segmentation(
            activity, offsets, self.frame_step_s, self.frame_duration_s, frame_count
        )

    def _activity(self, batch: Floats) -> Floats:
        """(chunks, frames, speakers) binary activity: the most likely powerset class's speakers."""
        logits = self._run(batch[:, None, :])
        return np.asarray(self._mapping[np.argmax(logits, axis=-1)], dtype=np.float32)
