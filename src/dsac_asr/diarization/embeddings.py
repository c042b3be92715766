"""Voice embeddings of speech windows by resemblyzer's pretrained encoder.

resemblyzer ships its weights (``pretrained.pt``) inside its PyPI package, so
nothing is downloaded. The encoder is a 3-layer LSTM over 40-band mel frames
(10 ms hop) that maps a stretch of speech to a 256-dimensional unit vector;
voices of one person point the same way.
"""

from __future__ import annotations

import threading
import warnings
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from dsac_asr.diarization.extra import import_resemblyzer
from dsac_asr.diarization.windows import WINDOW_S, Span, Window

SAMPLE_RATE_HZ = 16000
FRAMES_PER_S = 100
TARGET_DBFS = -30.0
"""resemblyzer's training loudness: quieter speech is raised to it."""
PIECE_S = 30.0
"""Mel spectrograms are made per piece of a region at most this long (bounded memory)."""
BATCH = 64

Embeddings = npt.NDArray[np.float32]


class VoiceEmbedder:
    """resemblyzer's ``VoiceEncoder`` on CPU, applied to windows of 16 kHz audio."""

    def __init__(self, resemblyzer: Any) -> None:
        import torch

        self._resemblyzer = resemblyzer
        self._torch = torch
        self._encoder = resemblyzer.VoiceEncoder("cpu", verbose=False)
        self._encoder.eval()

    def embed(
        self, samples: npt.NDArray[np.float32], regions: Sequence[Span], windows: Sequence[Window]
    ) -> Embeddings:
        """One unit-length embedding per window (rows in the order of ``windows``)."""
        mels = self._window_mels(samples, regions, windows)
        result = np.zeros((len(windows), self.dimension), dtype=np.float32)
        for indices in _same_length_batches(mels):
            batch = np.stack([mels[i] for i in indices])
            with self._torch.inference_mode():
                vectors = self._encoder(self._torch.from_numpy(batch)).numpy()
            result[indices] = vectors
        return result

    @property
    def dimension(self) -> int:
        """Length of one embedding."""
        return int(self._encoder.linear.out_features)

    def _window_mels(
        self, samples: npt.NDArray[np.float32], regions: Sequence[Span], windows: Sequence[Window]
    ) -> list[npt.NDArray[np.float32]]:
        """Each window's mel frames, computed once per piece of its region."""
        mels: list[npt.NDArray[np.float32]] = []
        cache: tuple[tuple[int, int], npt.NDArray[np.float32]] | None = None
        for window in windows:
            piece = _piece_of(regions[window.region], window)
            if cache is None or cache[0] != piece:
                cache = (piece, self._mel(samples, *piece))
            first = _frame(window.start_s) - piece[0]
            count = max(1, _frame(window.duration_s))
            mels.append(cache[1][first : first + count])
        return mels

    def _mel(self, samples: npt.NDArray[np.float32], first: int, last: int) -> Any:
        """Mel frames ``first``..``last`` (10 ms frames) of the loudness-normalised audio."""
        hop = SAMPLE_RATE_HZ // FRAMES_PER_S
        audio = samples[first * hop : last * hop].astype(np.float32)
        if len(audio) and np.any(audio):
            audio = self._resemblyzer.normalize_volume(audio, TARGET_DBFS, increase_only=True)
        return self._resemblyzer.wav_to_mel_spectrogram(audio)


def _piece_of(region: Span, window: Window) -> tuple[int, int]:
    """The frame range of the piece of ``region`` that holds ``window``: pieces
    start every ``PIECE_S`` and reach one window further, so each window fits in one."""
    region_first = _frame(region.start_s)
    size = _frame(PIECE_S)
    first = region_first + (_frame(window.start_s) - region_first) // size * size
    return first, min(_frame(region.end_s), first + size + _frame(WINDOW_S) + 1)


def _frame(time_s: float) -> int:
    return round(time_s * FRAMES_PER_S)


def _same_length_batches(mels: Sequence[npt.NDArray[np.float32]]) -> list[list[int]]:
    """Indices of ``mels`` grouped by frame count, in batches of at most ``BATCH``."""
    groups: dict[int, list[int]] = defaultdict(list)
    for index, mel in enumerate(mels):
        groups[len(mel)].append(index)
    return [
        indices[start : start + BATCH]
        for indices in groups.values()
        for start in range(0, len(indices), BATCH)
    ]


_embedder: VoiceEmbedder | None = None
_lock = threading.Lock()


def load_embedder() -> VoiceEmbedder:
    """The process's voice embedder, loaded on first use.

    Raises ``MissingExtraError`` when the diarization extra is not installed.
    """
    global _embedder
    with _lock:
        if _embedder is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # webrtcvad's pkg_resources deprecation notice
                _embedder = VoiceEmbedder(import_resemblyzer())
        return _embedder
