"""Domains: vocabulary for a field (parliament, health...) that a model can use.

For Whisper a domain is a text file, ``<NAME>.txt``, given to the model as a
prompt. Files are found in a model's folder (``domains/``), in the model
directory's overlay folder for a bundled model (``<models dir>/<id>/domains/``),
and, for every Whisper model, the examples shipped with dsac-asr. (For Kaldi
a domain is its own graph: a model folder whose manifest names the domain.)
"""

from __future__ import annotations

from pathlib import Path

SHIPPED_DIR = Path(__file__).with_name("domains")


def domain_files(folders: list[Path]) -> dict[str, Path]:
    """Domain name (upper case) to file, later folders overriding earlier ones."""
    found: dict[str, Path] = {}
    for folder in folders:
        if folder.is_dir():
            found.update({path.stem.upper(): path for path in sorted(folder.glob("*.txt"))})
    return found


def read_prompt(path: Path) -> str:
    """A domain file's prompt: its text without comment lines, on one line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return " ".join(line.strip() for line in lines if line.strip() and not line.startswith("#"))
