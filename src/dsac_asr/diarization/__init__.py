"""Speaker diarisation of mono audio: who speaks when.

Speech regions (Silero VAD) are cut into overlapping windows, each window is
embedded by resemblyzer's pretrained voice encoder (the optional
``diarization`` extra), the embeddings are clustered into speakers (a known
count, or an estimated one), and the labelled windows become speaker turns
that ``assign_speakers`` puts onto recognised words.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dsac_asr.diarization.assign import assign_speakers, split_by_speaker
from dsac_asr.diarization.extra import (
    INSTALL_HINT,
    diarization_available,
    require_diarization,
)
from dsac_asr.diarization.windows import Span, SpeakerTurn, speech_windows, windows_to_turns
from dsac_asr.transcript import speaker_label

__all__ = [
    "INSTALL_HINT",
    "MAX_AUTO_SPEAKERS",
    "SpeakerTurn",
    "assign_speakers",
    "diarization_available",
    "diarize",
    "prepare",
    "require_diarization",
    "split_by_speaker",
]

MAX_AUTO_SPEAKERS = 8
"""The most speakers an estimated count may come to."""
MIN_SILENCE_S = 0.3
"""A pause this long ends a speech region (a turn change usually has one)."""
PAD_S = 0.1
ENCODER_RATE_HZ = 16000


def prepare() -> None:
    """Load the voice encoder now (before a long recognition), or raise
    ``MissingExtraError`` saying how to install the extra."""
    from dsac_asr.diarization.embeddings import load_embedder

    load_embedder()


def diarize(
    samples: npt.NDArray[np.float32],
    sample_rate_hz: int,
    speakers: int | None = None,
    max_speakers: int = MAX_AUTO_SPEAKERS,
) -> list[SpeakerTurn]:
    """Speaker turns of mono audio, labelled ``A``, ``B``, ... in order of first appearance.

    ``speakers`` is the known number of speakers, or ``None`` to estimate it
    (at most ``max_speakers``). Raises ``MissingExtraError`` without the extra.
    """
    from dsac_asr.diarization.clustering import cluster
    from dsac_asr.diarization.embeddings import load_embedder

    audio = _at_encoder_rate(samples, sample_rate_hz)
    regions = _speech_regions(audio)
    windows = speech_windows(regions)
    if not windows:
        return []
    if speakers == 1:
        return [SpeakerTurn(r.start_s, r.end_s, speaker_label(0)) for r in regions]
    embeddings = load_embedder().embed(audio, regions, windows)
    labels = cluster(embeddings, speakers, max_speakers)
    return windows_to_turns(windows, [speaker_label(int(k)) for k in labels], regions)


def _speech_regions(audio: npt.NDArray[np.float32]) -> list[Span]:
    from dsac_asr.engines.regions import find_speech

    found = find_speech(audio, ENCODER_RATE_HZ, min_silence_s=MIN_SILENCE_S, pad_s=PAD_S)
    return [Span(r.start / ENCODER_RATE_HZ, r.end / ENCODER_RATE_HZ) for r in found]


def _at_encoder_rate(
    samples: npt.NDArray[np.float32], sample_rate_hz: int
) -> npt.NDArray[np.float32]:
    """``samples`` resampled to 16 kHz (the encoder's and the VAD's rate)."""
    if sample_rate_hz == ENCODER_RATE_HZ:
        return samples
    from scipy.signal import resample_poly

    divisor = np.gcd(ENCODER_RATE_HZ, sample_rate_hz)
    resampled = resample_poly(samples, ENCODER_RATE_HZ // divisor, sample_rate_hz // divisor)
    return np.asarray(resampled, dtype=np.float32)
