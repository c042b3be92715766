"""The diarisation's knobs and their defaults, tuned on the AMI dev excerpts
(``../shared/real-speech/ami-train``, first 30 s of each; see bench/diarization_real.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from dsac_asr.diarization.clustering import ClusterSettings
from dsac_asr.diarization.embeddings import SelectionLimits


@dataclass(frozen=True)
class DiarizationSettings:
    """How the recording is cut, embedded, clustered and smoothed."""

    step_s: float = 5.0
    """Segmentation chunks (10 s) start this far apart."""
    min_clean_s: float = 0.5
    """A local speaker is embedded on its speech without overlap when it has this much."""
    limits: SelectionLimits = field(default_factory=lambda: SelectionLimits(most_s=6.0))
    """How much of each local speaker's speech is embedded: at most 6 s (measured on
    the AMI dev excerpts: the same DER and counts as no limit, a sixth less to embed;
    5 s or a 5 s middle window cost DER and counts)."""
    cluster: ClusterSettings = field(
        default_factory=lambda: ClusterSettings(threshold=0.7, min_cluster_size=1, min_train_s=0.5)
    )
    min_off_s: float = 0.1
    """A speaker's pauses shorter than this are closed."""
    min_on_s: float = 0.1
    """A speaker's pieces shorter than this are dropped."""


DEFAULT_SETTINGS = DiarizationSettings()
