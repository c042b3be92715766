"""Made-up conversations for diarisation: turns of several TTS voices, with the
truth of who speaks when (used by the diarisation tests and bench/diarization.py)."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from speech import SENTENCES, read_mono, speak

SAMPLE_RATE_HZ = 16000
VOICES = ("slt", "rms", "awb", "kal16", "espeak:en+m3", "espeak:en+f4")


@dataclass(frozen=True)
class Line:
    """One turn: its voice, text and the time its speech takes (silence trimmed)."""

    voice: str
    text: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Conversation:
    """Mono 16 kHz audio of alternating turns and the lines that make it."""

    samples: npt.NDArray[np.float32]
    lines: tuple[Line, ...]

    @property
    def voices(self) -> list[str]:
        """The voices in order of first appearance."""
        return list(dict.fromkeys(line.voice for line in self.lines))

    def voice_at(self, start_s: float, end_s: float) -> str:
        """The voice of the line nearest to (or overlapping) ``start_s``..``end_s``."""
        middle_s = (start_s + end_s) / 2
        return min(self.lines, key=lambda line: _distance(line, middle_s)).voice


def _distance(line: Line, time_s: float) -> float:
    return max(line.start_s - time_s, time_s - line.end_s, 0.0)


def make_conversation(
    folder: Path, voices: list[str], turns: int, seed: int = 0, pause_s: float = 0.5
) -> Conversation:
    """``turns`` turns of one or two sentences, never the same voice twice in a row
    (the voices take turns in a shuffled order), ``pause_s`` of silence between turns."""
    rng = random.Random(seed)
    pieces: list[npt.NDArray[np.float32]] = []
    lines: list[Line] = []
    offset = 0
    previous = None
    for index in range(turns):
        voice = rng.choice([v for v in voices if v != previous] or voices)
        previous = voice
        text = " ".join(rng.sample(SENTENCES, rng.choice([1, 1, 2])))
        audio = read_mono(speak(text, folder / f"turn{seed}_{index}.wav", voice), SAMPLE_RATE_HZ)
        first, last = _speech_bounds(audio)
        lines.append(
            Line(voice, text, (offset + first) / SAMPLE_RATE_HZ, (offset + last) / SAMPLE_RATE_HZ)
        )
        pause = np.zeros(int(pause_s * SAMPLE_RATE_HZ), dtype=np.float32)
        pieces.extend([audio, pause])
        offset += len(audio) + len(pause)
    return Conversation(np.concatenate(pieces), tuple(lines))


def _speech_bounds(audio: npt.NDArray[np.float32]) -> tuple[int, int]:
    """First and last sample louder than 2 % of the peak (TTS pads its speech with silence)."""
    loud = np.flatnonzero(np.abs(audio) > 0.02 * float(np.max(np.abs(audio))))
    return (int(loud[0]), int(loud[-1]) + 1) if len(loud) else (0, len(audio))


def speaker_accuracy(reference: list[str], hypothesis: list[str | None]) -> float:
    """Share of items whose hypothesis label maps to their reference label, under
    the one-to-one label mapping that gets the most right (0.0 for no items)."""
    from scipy.optimize import linear_sum_assignment

    if not reference:
        return 0.0
    truths = sorted(set(reference))
    guesses = sorted({label or "" for label in hypothesis})
    counts = np.zeros((len(guesses), len(truths)))
    for truth, guess in zip(reference, hypothesis, strict=True):
        counts[guesses.index(guess or ""), truths.index(truth)] += 1
    rows, cols = linear_sum_assignment(-counts)
    return float(counts[rows, cols].sum() / len(reference))


def diarisation_error_rate(
    lines: tuple[Line, ...], turns: list[tuple[float, float, str]], step_s: float = 0.01
) -> float:
    """Missed speech + false alarm + speaker confusion over reference speech time,
    on a 10 ms grid with the best one-to-one speaker mapping (no collar)."""
    from scipy.optimize import linear_sum_assignment

    end_s = max([line.end_s for line in lines] + [end for _start, end, _label in turns])
    frames = int(np.ceil(end_s / step_s)) + 1
    truths = sorted({line.voice for line in lines})
    guesses = sorted({label for _start, _end, label in turns})
    reference = _grid(
        ((line.start_s, line.end_s, line.voice) for line in lines), truths, frames, step_s
    )
    hypothesis = _grid(turns, guesses, frames, step_s)
    overlap = np.zeros((len(guesses), len(truths)))
    for g in range(len(guesses)):
        for t in range(len(truths)):
            overlap[g, t] = np.sum((hypothesis == g) & (reference == t))
    rows, cols = linear_sum_assignment(-overlap)
    correct = overlap[rows, cols].sum()
    speech = np.sum(reference >= 0)
    false_alarm = np.sum((reference < 0) & (hypothesis >= 0))
    return float((speech - correct + false_alarm) / max(speech, 1))


def _grid(
    spans: Iterable[tuple[float, float, str]], names: list[str], frames: int, step_s: float
) -> npt.NDArray[np.int64]:
    """A label index per frame (-1: nobody) from (start, end, name) spans."""
    grid = np.full(frames, -1, dtype=np.int64)
    for start_s, end_s, name in spans:
        grid[int(start_s / step_s) : int(end_s / step_s)] = names.index(name)
    return grid
