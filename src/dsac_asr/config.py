"""Settings, read from ``DSAC_*`` environment variables at entry points only.

Inner code receives the values it needs as arguments; it never reads the
environment itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from platformdirs import user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from dsac_asr.egress import EgressPolicy, Timeouts

DEFAULT_MAX_DURATION_S = 4 * 3600.0
DEFAULT_MAX_UPLOAD_MB = 2048.0
# Decoded samples (float32) one job may hold: 1 GiB is 4 h of mono 16 kHz audio (0.86 GiB)
# or 4 h of stereo 8 kHz telephone audio, so an accepted upload stays within the 1.5 GB a
# worker may spend on it (see audio/budget.py).
DEFAULT_MAX_DECODED_MB = 1024.0
# Channels recognised apart at most; a file with more is mixed to one channel while decoding.
DEFAULT_MAX_CHANNELS = 2
DECODER_MAX_CHANNELS = 8
# The service's own bucket: full transcripts (transcripts/<job id>.json), never a client's.
DEFAULT_INTERNAL_BUCKET = "dsac-internal"
# Whisper windows (up to 30 s of speech each) decoded together; 0 or 1 decodes
# sequentially (Whisper's own sliding window). Measured on 590 s of flite
# speech, whisper-base int8, 2 cores, nothing else running, two runs each:
# engine only, RTF / peak memory: batch 2: 0.055-0.059 / 0.88 GB; 4: 0.048-0.050
# / 1.03 GB; 6: 0.050 / 1.17 GB; 8: 0.045-0.047 / 1.38-1.43 GB (16: 0.048 /
# 2.0 GB, earlier); `dsac-asr transcribe` end to end: sequential 0.090 /
# 1.02 GB, batch 4 0.053 / 1.06 GB, batch 8 0.051 / 1.38 GB. WER 7.95% batched
# at every size, 8.44% sequential. 4 is within 5% of the fastest and keeps a
# worker under 1.2 GB.
DEFAULT_BATCH_SIZE = 4
# Short queued jobs a worker takes at once (0 or 1: one at a time), see jobs/batching.py.
# bench/service_throughput.py, 20 clips of 3-6 s submitted at once, one worker,
# whisper-base, shared windows, quiet 2-core machine: service wall time 18.4 s
# at 8, 16.7 s at 12, 16.5 s at 20 (the raw engine back to back: 28-40 s); at 16,
# once a worker runs the queued jobs after its batch itself: 14.0 and 15.6 s
# (raw 34.6 and 33.1 s). The engine alone on the same 20 clips: 10.6 s shared
# windows, 20.4 s own windows, 27.1 s one by one. Short clips cost little memory.
DEFAULT_JOB_BATCH_SIZE = 16


@dataclass(frozen=True)
class MediaLimits:
    """Bounds on what the decoder accepts."""

    max_size_bytes: int = int(DEFAULT_MAX_UPLOAD_MB * 1024 * 1024)
    max_duration_s: float = DEFAULT_MAX_DURATION_S
    max_channels: int = DECODER_MAX_CHANNELS  # the service passes DSAC_MAX_CHANNELS (default 2)
    max_decoded_bytes: int = int(DEFAULT_MAX_DECODED_MB * 1024 * 1024)


class Settings(BaseSettings):
    """Process-wide settings (environment variables with the ``DSAC_`` prefix)."""

    model_config = SettingsConfigDict(env_prefix="DSAC_", extra="ignore")

    data_dir: Path = Field(default_factory=lambda: Path(user_data_dir("dsac-asr")))
    models_dir: Path | None = None
    max_duration_s: float = DEFAULT_MAX_DURATION_S
    max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB
    max_channels: int = Field(default=DEFAULT_MAX_CHANNELS, ge=1, le=DECODER_MAX_CHANNELS)
    max_decoded_mb: float = Field(default=DEFAULT_MAX_DECODED_MB, gt=0)
    max_json_kb: float = Field(default=64.0, gt=0)
    metrics_key: str | None = None
    compute_type: str = "int8"
    cpu_threads: int = 0
    decode_budget_factor: float = 3.0
    batch_size: int = Field(default=DEFAULT_BATCH_SIZE, ge=0)
    # Speaker diarisation: "builtin" (the diarization extra) or "pyannote" (pyannote.audio's
    # pipeline, the pyannote extra) loaded from the local folder diarization_model.
    diarization_backend: Literal["builtin", "pyannote"] = "builtin"
    diarization_model: Path | None = None
    # POST /v1/audio/transcriptions answers synchronously for files up to this long
    openai_max_duration_s: float = Field(default=600.0, gt=0)
    openai_wait_s: float = Field(default=1800.0, gt=0)

    database_url: str | None = None
    broker_url: str | None = None
    storage_url: str | None = None
    storage_root: Path | None = None
    internal_bucket: str = DEFAULT_INTERNAL_BUCKET
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    job_lease_s: float = 60.0
    sweep_interval_s: float | None = Field(default=None, gt=0)
    max_transient_retries: int = 5
    max_job_attempts: int = 3
    max_active_jobs_per_tenant: int = 100
    job_batch_size: int = Field(default=DEFAULT_JOB_BATCH_SIZE, ge=0)
    job_batch_wait_ms: float = Field(default=200.0, ge=0)
    job_batch_share_windows: bool = True

    egress_allow: str | None = None
    fetch_connect_timeout_s: float = 10.0
    fetch_read_timeout_s: float = 30.0
    fetch_total_s: float = 3600.0
    callback_timeout_s: float = 10.0
    # Seconds between a callback's attempts (Standard Webhooks' schedule: 8 attempts
    # over about 27.6 hours); the first attempt goes out when the job ends.
    callback_retry_s: str = "5,300,1800,7200,18000,36000,36000"
    # Let the seed callback's X-API-KEY go to plain http:// URLs (e.g. a front end
    # on the same private network); refused by default.
    callback_key_over_http: bool = False
    # Seals secrets kept for callbacks (the seed's X-API-KEY); without it, a key is
    # generated into <data dir>/secret.key. Set the same value on every API and worker.
    secret_key: str | None = None

    @property
    def resolved_models_dir(self) -> Path:
        """The model directory: ``DSAC_MODELS_DIR`` or ``<data dir>/models``."""
        return self.models_dir if self.models_dir is not None else self.data_dir / "models"

    @property
    def resolved_database_url(self) -> str:
        """``DSAC_DATABASE_URL``, or SQLite at ``<data dir>/dsac.sqlite3``."""
        return self.database_url or f"sqlite:///{self.data_dir / 'dsac.sqlite3'}"

    @property
    def resolved_broker_url(self) -> str:
        """``DSAC_BROKER_URL``, or the embedded filesystem transport under the data dir."""
        return self.broker_url or "filesystem://"

    @property
    def resolved_sweep_interval_s(self) -> float:
        """How often the sweeper runs: ``DSAC_SWEEP_INTERVAL_S``, or a quarter of the lease."""
        return self.sweep_interval_s or max(self.job_lease_s / 4, 0.5)

    @property
    def queue_dir(self) -> Path:
        """Where the embedded filesystem transport keeps its messages."""
        return self.data_dir / "queue"

    @property
    def resolved_storage_root(self) -> Path:
        """The local object store's folder: ``DSAC_STORAGE_ROOT`` or ``<data dir>/objects``."""
        return self.storage_root or self.data_dir / "objects"

    @property
    def temp_dir(self) -> Path:
        """Where workers keep per-job temporary files."""
        return self.data_dir / "tmp"

    @property
    def egress_policy(self) -> EgressPolicy:
        """Which private hosts URL sources and callbacks may reach (none by default)."""
        return EgressPolicy.parse(self.egress_allow)

    @property
    def fetch_timeouts(self) -> Timeouts:
        """Connect, read and total time limits for fetching URL sources."""
        return Timeouts(self.fetch_connect_timeout_s, self.fetch_read_timeout_s, self.fetch_total_s)

    @property
    def media_limits(self) -> MediaLimits:
        """The decoder limits these settings ask for."""
        return MediaLimits(
            max_size_bytes=int(self.max_upload_mb * 1024 * 1024),
            max_duration_s=self.max_duration_s,
            max_channels=self.max_channels,
            max_decoded_bytes=int(self.max_decoded_mb * 1024 * 1024),
        )
