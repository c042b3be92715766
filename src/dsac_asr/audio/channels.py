"""Deciding whether the channels of a recording are recognised separately.

Two channels *differ* when both their waveforms and their loudness
envelopes are unlike each other:

* waveform correlation (zero lag, normalised) below
  :data:`WAVEFORM_CORRELATION_MIN` rules out a mono source copied to both
  channels, or near copies (lossy joint-stereo coding, a gain difference);
* correlation of the 20 ms loudness envelopes (in dB) below
  :data:`ENVELOPE_CORRELATION_MIN` rules out two microphones picking up the
  same talker with a delay (low waveform correlation, same envelope), which
  is better mixed than transcribed twice. A call-centre recording (agent on
  one side, customer on the other) has unrelated or opposite envelopes, as
  has a recording with one channel silent.

With more than two channels, they differ when any pair does.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import numpy.typing as npt

from dsac_asr.audio.budget import check_mode
from dsac_asr.audio.decode import DecodedAudio
from dsac_asr.audio.probe import MediaInfo

WAVEFORM_CORRELATION_MIN = 0.8
ENVELOPE_CORRELATION_MIN = 0.8
FRAME_S = 0.02
TELEPHONE_RATE_HZ = 8000

_SILENCE_POWER = 1e-10
_FLAT_STD_DB = 1e-6

FloatArray = npt.NDArray[np.float64]


def choose_separate(mode: str, info: MediaInfo, audio: DecodedAudio) -> bool:
    """True when each channel of ``audio`` should be recognised on its own.

    ``mode`` is ``"separate"`` (whenever there are two channels or more),
    ``"mix"`` (never) or ``"auto"``: stereo telephone audio (source rate at
    most 8 kHz) and recordings whose channels differ are separated.
    """
    check_mode(mode)
    if mode == "mix" or audio.channel_count < 2:
        return False
    if mode == "separate":
        return True
    telephone = info.sample_rate_hz <= TELEPHONE_RATE_HZ and info.channels == 2
    return telephone or channels_differ(audio)


def channels_differ(audio: DecodedAudio) -> bool:
    """True when some pair of channels carries clearly different content."""
    if audio.channel_count < 2 or audio.samples.shape[1] == 0:
        return False
    frames = _framed(audio)
    energies = np.einsum("cfs,cfs->cf", frames, frames, dtype=np.float64)
    pairs = combinations(range(audio.channel_count), 2)
    return any(_pair_differs(frames, energies, first, second) for first, second in pairs)


def _framed(audio: DecodedAudio) -> npt.NDArray[np.float32]:
    """The samples cut into whole frames: shape (channels, frames, frame length)."""
    n_samples = int(audio.samples.shape[1])
    frame_len = min(n_samples, max(1, round(audio.sample_rate_hz * FRAME_S)))
    n_frames = n_samples // frame_len
    usable = audio.samples[:, : n_frames * frame_len]
    return usable.reshape(audio.channel_count, n_frames, frame_len)


def _pair_differs(
    frames: npt.NDArray[np.float32], energies: FloatArray, first: int, second: int
) -> bool:
    """Apply both correlation tests to channels ``first`` and ``second``."""
    cross = float(np.einsum("fs,fs->", frames[first], frames[second], dtype=np.float64))
    waveform = _normalised(cross, float(energies[first].sum()), float(energies[second].sum()))
    if waveform >= WAVEFORM_CORRELATION_MIN:
        return False
    frame_len = frames.shape[2]
    envelope = envelope_correlation(energies[first] / frame_len, energies[second] / frame_len)
    return envelope < ENVELOPE_CORRELATION_MIN


def _normalised(cross: float, energy_a: float, energy_b: float) -> float:
    """Normalised correlation; two silent channels count as identical."""
    if energy_a == 0.0 and energy_b == 0.0:
        return 1.0
    if energy_a == 0.0 or energy_b == 0.0:
        return 0.0
    return cross / float(np.sqrt(energy_a * energy_b))


def envelope_correlation(power_a: FloatArray, power_b: FloatArray) -> float:
    """Pearson correlation of two per-frame mean-square sequences on a dB scale.

    Two flat envelopes (both steady) count as identical (1.0); one flat
    envelope against a varying one (a silent channel) as unrelated (0.0).
    """
    level_a = 10.0 * np.log10(power_a + _SILENCE_POWER)
    level_b = 10.0 * np.log10(power_b + _SILENCE_POWER)
    flat_a = float(level_a.std()) < _FLAT_STD_DB
    flat_b = float(level_b.std()) < _FLAT_STD_DB
    if flat_a or flat_b:
        return 1.0 if flat_a and flat_b else 0.0
    return float(np.corrcoef(level_a, level_b)[0, 1])
