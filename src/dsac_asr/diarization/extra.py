"""The optional ``diarization`` extra: resemblyzer's voice encoder on CPU torch.

Nothing here imports torch or resemblyzer at module level: the default install
stays light, and a request for diarisation without the extra fails early with
an error that says how to install it.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from dsac_asr.errors import MissingExtraError

REQUIRED_MODULES = ("torch", "resemblyzer", "scipy")
INSTALL_HINT = (
    "speaker diarisation needs the diarization extra: "
    "pip install torch --index-url https://download.pytorch.org/whl/cpu "
    "&& pip install 'dsac-asr[diarization]'"
)


def diarization_available() -> bool:
    """Whether the extra's packages are installed (checked without importing them)."""
    return all(_installed(name) for name in REQUIRED_MODULES)


def require_diarization() -> None:
    """Raise ``MissingExtraError`` (with the install command) unless the extra is installed."""
    if not diarization_available():
        raise MissingExtraError(INSTALL_HINT)


def import_resemblyzer() -> Any:
    """Import resemblyzer (and with it torch), or raise ``MissingExtraError``."""
    try:
        import resemblyzer
    except ImportError as exc:
        raise MissingExtraError(f"{INSTALL_HINT} ({exc})") from exc
    return resemblyzer


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False
