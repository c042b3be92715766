"""Kaldi's log-mel filterbank (the features CAM++ was trained on), in numpy.

The same computation as Kaldi's ``compute-fbank-feats`` with CAM++'s options:
25 ms frames every 10 ms (edges snipped), DC offset removed, pre-emphasis 0.97,
Povey window, 512-point power spectrum, 80 triangular mel bands from 20 Hz to
Nyquist, natural log floored at float32's epsilon, no dither. Vectorised over
30 s of frames at a time: about twice as fast as kaldi-native-fbank's
frame-by-frame loop on 30 s, the same values to 1e-4.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt

SAMPLE_RATE_HZ = 16000
FRAME_LENGTH = 400
"""Samples per frame (25 ms)."""
FRAME_SHIFT = 160
"""Samples between frames (10 ms)."""
FFT_SIZE = 512
PREEMPHASIS = 0.97
LOW_HZ = 20.0
FLOOR = float(np.finfo(np.float32).eps)
BLOCK_FRAMES = 3000
"""Frames computed at once (30 s: about 35 MB of working arrays)."""

Floats = npt.NDArray[np.float32]


def mel(hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Kaldi's mel scale."""
    return np.asarray(1127.0 * np.log(1.0 + hz / 700.0))


@lru_cache(maxsize=4)
def mel_banks(bands: int) -> Floats:
    """(FFT_SIZE / 2 + 1, bands) triangular weights, equally spaced in mel (Kaldi's;
    the Nyquist bin has no weight)."""
    low, high = mel(np.asarray(LOW_HZ)), mel(np.asarray(SAMPLE_RATE_HZ / 2))
    delta = (high - low) / (bands + 1)
    bins = mel(np.arange(FFT_SIZE // 2, dtype=np.float64) * (SAMPLE_RATE_HZ / FFT_SIZE))
    left = low + np.arange(bands)[:, None] * delta
    centre, right = left + delta, left + 2 * delta
    rising = (bins - left) / (centre - left)
    falling = (right - bins) / (right - centre)
    weights = np.where((bins > left) & (bins < right), np.where(bins <= centre, rising, falling), 0)
    banks = np.zeros((FFT_SIZE // 2 + 1, bands))
    banks[: FFT_SIZE // 2] = weights.T
    return banks.astype(np.float32)


@lru_cache(maxsize=1)
def povey_window() -> Floats:
    """Kaldi's default window: a Hann window to the power 0.85."""
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(FRAME_LENGTH) / (FRAME_LENGTH - 1))
    return np.asarray(hann**0.85, dtype=np.float32)


def frame_count(samples: int) -> int:
    """Filterbank frames of ``samples`` samples (none for less than 25 ms)."""
    return 1 + (samples - FRAME_LENGTH) // FRAME_SHIFT if samples >= FRAME_LENGTH else 0


def log_mel_filterbank(audio: Floats, bands: int) -> Floats:
    """(frames, bands) log-mel filterbank of 16 kHz ``audio``; frame ``i`` starts at
    ``i * 10 ms``; no frames for less than 25 ms. Frames are computed ``BLOCK_FRAMES``
    at a time (the whole of 4 h at once would cost about 8 GB of spectra)."""
    count = frame_count(len(audio))
    out = np.empty((count, bands), dtype=np.float32)
    for first in range(0, count, BLOCK_FRAMES):
        last = min(count, first + BLOCK_FRAMES)
        out[first:last] = _block(audio, first, last, bands)
    return out


def _block(audio: Floats, first: int, last: int, bands: int) -> Floats:
    """Log-mel rows of frames ``first`` to ``last``."""
    starts = FRAME_SHIFT * np.arange(first, last)[:, None]
    frames = audio[starts + np.arange(FRAME_LENGTH)[None, :]].astype(np.float32)
    frames -= frames.mean(axis=1, keepdims=True)
    frames[:, 1:] -= PREEMPHASIS * frames[:, :-1].copy()
    frames[:, 0] *= 1.0 - PREEMPHASIS
    frames *= povey_window()
    spectrum = np.fft.rfft(frames, n=FFT_SIZE)
    power = spectrum.real**2 + spectrum.imag**2
    return np.asarray(np.log(np.maximum(power @ mel_banks(bands), FLOOR)), dtype=np.float32)
