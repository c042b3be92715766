"""Per-job temporary folders, removed after the job and after a crash.

Each worker process works under ``<temp root>/<pid>/``; at start a worker
removes the folders of processes that no longer exist.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def job_workspace(temp_root: Path, job_id: str) -> Iterator[Path]:
    """A fresh folder for one job, removed when the block ends however it ends."""
    folder = temp_root / str(os.getpid()) / job_id
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_workspaces(temp_root: Path) -> list[Path]:
    """Remove the folders of worker processes that are gone; return what was removed."""
    if not temp_root.is_dir():
        return []
    removed = []
    for folder in temp_root.iterdir():
        if not (folder.name.isdigit() and _alive(int(folder.name))):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed
