"""The local folder pyannote.audio's pipeline is loaded from, checked and resolved.

The folder holds ``config.yaml`` (pyannote's pipeline configuration) and the
checkpoints it names under ``pipeline: params:`` as ``segmentation``,
``embedding`` and ``plda``, each either pyannote's ``$model/<subfolder>`` (the
layout of speaker-diarization-community-1) or a path relative to the folder
(e.g. ``segmentation-3.0/pytorch_model.bin``, for speaker-diarization-3.1 made
offline). Every one of them is resolved to an absolute path in the folder; one
that is not there, such as a Hugging Face id left in the file, is an error:
nothing is ever downloaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dsac_asr.errors import ModelError

CONFIG_NAME = "config.yaml"
MODEL_FILE = "pytorch_model.bin"
PLDA_FILES = ("xvec_transform.npz", "plda.npz")
CHECKPOINT_KEYS = ("segmentation", "embedding", "plda")
"""What pyannote.audio 4's SpeakerDiarization loads; a key left out is fetched from
Hugging Face by pyannote itself, so every one must be named and present."""
MODEL_PREFIX = "$model/"
GUIDE = "see docs/diarization.md"


def resolved_config(folder: Path) -> dict[str, Any]:
    """``folder``'s ``config.yaml`` with every checkpoint an absolute path inside ``folder``
    (as ``{"checkpoint": path, ...}``, the form pyannote loads its own checkpoints from).

    Raises ``ModelError`` naming what is missing: the folder, ``config.yaml``,
    or a checkpoint it names.
    """
    if not folder.is_dir():
        raise ModelError(f"the pyannote model folder {folder} does not exist ({GUIDE})")
    config = _read_config(folder / CONFIG_NAME)
    params = config.get("pipeline", {}).get("params", {})
    if not isinstance(params, dict):
        raise ModelError(f"{folder / CONFIG_NAME} has no pipeline: params: mapping")
    for key in CHECKPOINT_KEYS:
        if key not in params:
            raise ModelError(
                f"{folder / CONFIG_NAME} names no {key} checkpoint under pipeline: params: "
                f"(pyannote.audio would fetch one from Hugging Face; {GUIDE})"
            )
        path = str(_checkpoint(folder, key, params[key]))
        # a mapping, not a string: pyannote picks an embedding loader by words in a string
        # ("wespeaker" means ONNX, "speechbrain" SpeechBrain); these are pyannote checkpoints
        params[key] = (
            {"checkpoint": path} if key == "plda" else {"checkpoint": path, "strict": False}
        )
    return config


def _read_config(path: Path) -> dict[str, Any]:
    import yaml

    if not path.is_file():
        raise ModelError(f"the pyannote model folder has no {CONFIG_NAME}: {path} ({GUIDE})")
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ModelError(f"{path} cannot be read as YAML: {exc}") from exc
    if not isinstance(config, dict) or not isinstance(config.get("pipeline"), dict):
        raise ModelError(f"{path} is not a pyannote pipeline configuration (no pipeline:)")
    return config


def _checkpoint(folder: Path, key: str, value: object) -> Path:
    """The absolute path of the ``key`` checkpoint ``value`` names, checked to be there."""
    if isinstance(value, dict) and isinstance(value.get("checkpoint"), str):
        subfolder = value.get("subfolder") or ""
        value = f"{value['checkpoint'].rstrip('/')}/{subfolder}".rstrip("/")
    if not isinstance(value, str) or not value.strip():
        raise ModelError(f"{folder / CONFIG_NAME}: {key} must name a checkpoint, not {value!r}")
    relative = value.removeprefix(MODEL_PREFIX).split("@")[0]
    path = (folder / relative).resolve()
    needed = _needed_files(key, path)
    missing = [str(file) for file in needed if not file.is_file()]
    if missing:
        raise ModelError(
            f"{folder / CONFIG_NAME}: the {key} checkpoint {value!r} is not in the folder "
            f"(missing {', '.join(missing)}); copy it there and name it by its path "
            f"relative to the folder ({GUIDE}); nothing is downloaded"
        )
    return path


def _needed_files(key: str, path: Path) -> list[Path]:
    """The files a checkpoint at ``path`` (a folder or a file) must have."""
    if path.is_file():
        return [path]
    if key == "plda":
        return [path / name for name in PLDA_FILES]
    return [path / MODEL_FILE]
