"""Putting a new model folder into the model directory, all at once."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from dsac_asr.errors import InvalidOptionError, ModelError
from dsac_asr.models.manifest import ModelManifest, write_manifest


def new_manifest(**fields: object) -> ModelManifest:
    """A manifest for an import; a bad id, language or band is the caller's error."""
    try:
        return ModelManifest.model_validate(fields)
    except ValidationError as exc:
        raise InvalidOptionError(f"cannot import model {fields.get('id')!r}: {exc}") from exc


def check_free(target: Path, replace: bool) -> None:
    """ModelError when ``target`` exists and ``replace`` is false."""
    if (target.exists() or target.is_symlink()) and not replace:
        raise ModelError(f"model folder {target} already exists: pass replace=True to replace it")


def install(target: Path, manifest: ModelManifest, build: Callable[[Path], None]) -> None:
    """Let ``build`` fill a staging folder beside ``target``, move it into place, then
    write the manifest.

    The manifest comes last so that a registry scanning the models folder never
    sees a half-built model (its glob also matches the hidden staging folder).
    """
    staging = target.parent / f".{target.name}.importing-{uuid.uuid4().hex[:8]}"
    try:
        staging.mkdir(parents=True)
        build(staging)
        remove(target)
        staging.rename(target)
        write_manifest(target, manifest)
    except OSError as exc:
        raise ModelError(f"cannot write the model folder {target}: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def remove(path: Path) -> None:
    """Remove an old model folder (or a link standing in its place), if any."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
