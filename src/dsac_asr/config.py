"""Settings, read from ``DSAC_*`` environment variables at entry points only.

Inner code receives the values it needs as arguments; it never reads the
environment itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MAX_DURATION_S = 4 * 3600.0
DEFAULT_MAX_UPLOAD_MB = 2048.0


@dataclass(frozen=True)
class MediaLimits:
    """Bounds on what the decoder accepts."""

    max_size_bytes: int = int(DEFAULT_MAX_UPLOAD_MB * 1024 * 1024)
    max_duration_s: float = DEFAULT_MAX_DURATION_S


class Settings(BaseSettings):
    """Process-wide settings (environment variables with the ``DSAC_`` prefix)."""

    model_config = SettingsConfigDict(env_prefix="DSAC_", extra="ignore")

    data_dir: Path = Field(default_factory=lambda: Path(user_data_dir("dsac-asr")))
    models_dir: Path | None = None
    max_duration_s: float = DEFAULT_MAX_DURATION_S
    max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB
    compute_type: str = "int8"
    cpu_threads: int = 0
    decode_budget_factor: float = 3.0

    @property
    def resolved_models_dir(self) -> Path:
        """The model directory: ``DSAC_MODELS_DIR`` or ``<data dir>/models``."""
        return self.models_dir if self.models_dir is not None else self.data_dir / "models"

    @property
    def media_limits(self) -> MediaLimits:
        """The decoder limits these settings ask for."""
        return MediaLimits(
            max_size_bytes=int(self.max_upload_mb * 1024 * 1024),
            max_duration_s=self.max_duration_s,
        )
