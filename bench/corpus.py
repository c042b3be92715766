"""Benchmark speech: the test suite's English sentences spoken by several flite voices."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from speech import SENTENCES, concatenate_speech, normalize_text, write_wav

__all__ = ["SAMPLE_RATE_HZ", "make_speech", "normalize_text", "write_mono_wav"]

VOICES = ("slt", "rms", "awb")
SAMPLE_RATE_HZ = 16000


def _lines(shift: int) -> list[tuple[str, str]]:
    """One pass over the sentences, voices rotated by ``shift``."""
    return [(VOICES[(i + shift) % len(VOICES)], text) for i, text in enumerate(SENTENCES)]


def make_speech(target_s: float) -> tuple[npt.NDArray[np.float32], str]:
    """About ``target_s`` seconds of speech (whole passes over the sentences) and its text."""
    with tempfile.TemporaryDirectory() as tmp:
        one_pass, _spans = concatenate_speech(Path(tmp), _lines(0), SAMPLE_RATE_HZ)
        passes = max(1, round(target_s * SAMPLE_RATE_HZ / len(one_pass)))
        lines = [line for shift in range(passes) for line in _lines(shift)]
        audio, _spans = concatenate_speech(Path(tmp), lines, SAMPLE_RATE_HZ)
    return audio, " ".join(text for _voice, text in lines)


def write_mono_wav(path: Path, samples: npt.NDArray[np.float32]) -> Path:
    """Write mono float32 samples as 16-bit PCM WAV at 16 kHz."""
    return write_wav(path, [samples], SAMPLE_RATE_HZ)
