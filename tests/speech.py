"""Test speech made on the fly with espeak-ng and flite (Debian packages)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

FLITE_VOICES = ("slt", "rms", "awb", "kal16")


def have_tts() -> bool:
    """True when both espeak-ng and flite are on PATH."""
    return shutil.which("espeak-ng") is not None and shutil.which("flite") is not None


def speak(text: str, out: Path, voice: str = "slt") -> Path:
    """Write ``text`` spoken by ``voice`` to the WAV file ``out``.

    ``voice`` is a flite voice (slt, rms, awb, kal16) or ``espeak:<voice>``
    (for example ``espeak:en-us``, ``espeak:ko``).
    """
    if voice.startswith("espeak:"):
        cmd = ["espeak-ng", "-v", voice.split(":", 1)[1], "-w", str(out), text]
    else:
        cmd = ["flite", "-voice", voice, "-t", text, "-o", str(out)]
    subprocess.run(cmd, check=True, capture_output=True)
    return out


def read_mono(path: Path, sample_rate_hz: int) -> npt.NDArray[np.float32]:
    """Decode any audio file to mono float32 at ``sample_rate_hz`` (test helper)."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate_hz)
    chunks: list[npt.NDArray[np.float32]] = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            chunks.extend(f.to_ndarray()[0] for f in resampler.resample(frame))
    chunks.extend(f.to_ndarray()[0] for f in resampler.resample(None))
    return np.concatenate(chunks).astype(np.float32)


def write_wav(
    path: Path,
    channels: list[npt.NDArray[np.float32]],
    sample_rate_hz: int,
    codec: str = "pcm_s16le",
) -> Path:
    """Write float32 channels (equal length) as a WAV file with ``codec``."""
    data = np.stack(channels)
    pcm = (np.clip(data, -1.0, 1.0) * 32767).astype(np.int16)
    layout = "mono" if len(channels) == 1 else "stereo"
    with av.open(str(path), "w", format="wav") as container:
        stream = container.add_stream(codec, rate=sample_rate_hz, layout=layout)
        frame = av.AudioFrame.from_ndarray(pcm.T.reshape(1, -1).copy(), format="s16", layout=layout)
        frame.sample_rate = sample_rate_hz
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


SENTENCES = (
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It is easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.",
    "The juice of lemons makes fine punch.",
    "The box was thrown beside the parked truck.",
    "The hogs were fed chopped corn and garbage.",
    "Four hours of steady work faced us.",
    "A large size in stockings is hard to sell.",
    "The boy was there when the sun rose.",
    "A rod is used to catch pink salmon.",
    "The source of the huge river is the clear spring.",
    "Kick the ball straight and follow through.",
    "Help the woman get back to her feet.",
    "A pot of tea helps to pass the evening.",
    "Smoky fires lack flame and heat.",
    "The soft cushion broke the man's fall.",
    "The salt breeze came across from the sea.",
    "The girl at the booth sold fifty bonds.",
    "The small pup gnawed a hole in the sock.",
    "The fish twisted and turned on the bent hook.",
    "Press the pants and sew a button on the vest.",
    "The swan dive was far short of perfect.",
    "The beauty of the view stunned the young boy.",
    "Two blue fish swam in the tank.",
    "Her purse was full of useless trash.",
    "The colt reared and threw the tall rider.",
    "It snowed, rained, and hailed the same morning.",
    "Read verse out loud for pleasure.",
)


_UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def _number_words(match: re.Match[str]) -> str:
    value = int(match.group())
    if value < 20:
        return _UNITS[value]
    if value < 100:
        tens, units = divmod(value, 10)
        return _TENS[tens] + ("" if units == 0 else " " + _UNITS[units])
    return match.group()


def normalize_text(text: str) -> str:
    """Lower-case words without punctuation, numbers below 100 spelled out, for WER."""
    spelled = re.sub(r"\b\d+\b", _number_words, text.lower())
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", spelled).split())


def concatenate_speech(
    folder: Path,
    lines: list[tuple[str, str]],
    sample_rate_hz: int,
    pause_s: float = 0.7,
) -> tuple[npt.NDArray[np.float32], list[tuple[float, float]]]:
    """Speak (voice, text) lines one after another; return audio and each line's span."""
    pieces: list[npt.NDArray[np.float32]] = []
    spans: list[tuple[float, float]] = []
    offset = 0
    pause = np.zeros(int(pause_s * sample_rate_hz), dtype=np.float32)
    for index, (voice, text) in enumerate(lines):
        audio = read_mono(speak(text, folder / f"line{index}.wav", voice), sample_rate_hz)
        spans.append((offset / sample_rate_hz, (offset + len(audio)) / sample_rate_hz))
        pieces.extend([audio, pause])
        offset += len(audio) + len(pause)
    return np.concatenate(pieces), spans
