"""Shared fixtures: test speech is made by the tests, never downloaded."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from speech import have_tts, speak

from dsac_asr import heap
from dsac_asr.jobs.migrations import migrate
from dsac_asr.jobs.store import JobStore


@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A session-wide folder for generated speech."""
    return tmp_path_factory.mktemp("speech")


@pytest.fixture(scope="session")
def english_wav(speech_dir: Path) -> Path:
    """A short clean English sentence (flite slt voice, 16 kHz WAV)."""
    if not have_tts():
        pytest.fail("espeak-ng and flite are required: apt-get install espeak-ng flite")
    return speak("The quick brown fox jumps over the lazy dog.", speech_dir / "fox.wav")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[JobStore]:
    """A migrated SQLite job store under the test's ``tmp_path``, on the real clock
    (modules that need another store, or a fake clock, define their own ``store``)."""
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    migrate(url)
    opened = JobStore.open(url)
    yield opened
    opened.close()


@pytest.fixture
def mmap_thresholds(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The mmap thresholds set through ``heap.set_mmap_threshold``, in order (none is
    set for real); a test may append its own steps between them."""
    thresholds: list[object] = []

    def recorded(size: int) -> bool:
        thresholds.append(size)
        return True

    monkeypatch.setattr(heap, "set_mmap_threshold", recorded)
    return thresholds
