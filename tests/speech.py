"""Test speech made on the fly with espeak-ng and flite (Debian packages)."""

from __future__ import annotations

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
        frame = av.AudioFrame.from_ndarray(
            pcm.T.reshape(1, -1).copy(), format="s16", layout=layout
        )
        frame.sample_rate = sample_rate_hz
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path
