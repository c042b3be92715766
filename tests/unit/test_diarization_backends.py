"""Choosing the diarisation backend from settings, and the pyannote backend's clear
errors for a missing extra, setting, folder, config.yaml or checkpoint (no pyannote
import here: that is tested in tests/integration/test_pyannote_backend.py)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from api_fakes import make_harness
from typer.testing import CliRunner

from dsac_asr import cli
from dsac_asr.config import Settings
from dsac_asr.diarization import SpeakerTurn
from dsac_asr.diarization.backends import BuiltinDiarizer, diarizer_for
from dsac_asr.diarization.pyannote_backend import PyannoteDiarizer, annotation_turns
from dsac_asr.diarization.pyannote_folder import resolved_config
from dsac_asr.errors import InvalidOptionError, MissingExtraError, ModelError
from dsac_asr.pipeline import Pipeline

COMMUNITY = """\
pipeline:
  name: pyannote.audio.pipelines.SpeakerDiarization
  params:
    segmentation: $model/segmentation
    embedding: $model/embedding
    plda: $model/plda
"""
HUB_IDS = COMMUNITY.replace("$model/segmentation", "pyannote/segmentation-3.0")


def _folder(tmp_path: Path, config: str | None = COMMUNITY) -> Path:
    folder = tmp_path / "pyannote"
    for name in ("segmentation", "embedding"):
        (folder / name).mkdir(parents=True)
        (folder / name / "pytorch_model.bin").write_bytes(b"weights")
    (folder / "plda").mkdir()
    for name in ("xvec_transform.npz", "plda.npz"):
        (folder / "plda" / name).write_bytes(b"npz")
    if config is not None:
        (folder / "config.yaml").write_text(config, encoding="utf-8")
    return folder


@pytest.fixture
def without_pyannote(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyannote.audio", None)


def test_backends_by_name() -> None:
    assert isinstance(diarizer_for("builtin"), BuiltinDiarizer)
    pyannote = diarizer_for(" Pyannote ", Path("/srv/pyannote"))
    assert isinstance(pyannote, PyannoteDiarizer)
    assert pyannote.model_dir == Path("/srv/pyannote")
    with pytest.raises(InvalidOptionError, match=r"nemo.*builtin, pyannote"):
        diarizer_for("nemo")


def test_settings_choose_the_pipelines_diarizer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSAC_MODELS_DIR", str(tmp_path / "models"))
    assert isinstance(Pipeline.from_settings(Settings()).diarizer, BuiltinDiarizer)
    monkeypatch.setenv("DSAC_DIARIZATION_BACKEND", "pyannote")
    monkeypatch.setenv("DSAC_DIARIZATION_MODEL", str(tmp_path / "pyannote"))
    diarizer = Pipeline.from_settings(Settings()).diarizer
    assert isinstance(diarizer, PyannoteDiarizer)
    assert diarizer.model_dir == tmp_path / "pyannote"


def test_checkpoints_resolve_inside_the_folder(tmp_path: Path) -> None:
    relative = COMMUNITY.replace("$model/embedding", "embedding/pytorch_model.bin")
    folder = _folder(tmp_path, relative)
    params = resolved_config(folder)["pipeline"]["params"]
    assert params["segmentation"] == {
        "checkpoint": str((folder / "segmentation").resolve()),
        "strict": False,
    }
    assert params["embedding"]["checkpoint"] == str(
        (folder / "embedding" / "pytorch_model.bin").resolve()
    )
    assert params["plda"] == {"checkpoint": str((folder / "plda").resolve())}


def test_a_complete_folder_passes_the_check(tmp_path: Path) -> None:
    PyannoteDiarizer(_folder(tmp_path)).check()


def test_no_model_setting_names_it(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="DSAC_DIARIZATION_MODEL"):
        PyannoteDiarizer(None).check()


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"folder .*nowhere does not exist"):
        PyannoteDiarizer(tmp_path / "nowhere").check()


def test_a_folder_without_config_yaml_says_so(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"no config\.yaml"):
        PyannoteDiarizer(_folder(tmp_path, config=None)).check()


def test_a_hub_id_left_in_the_config_is_never_downloaded(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as raised:
        PyannoteDiarizer(_folder(tmp_path, HUB_IDS)).check()
    message = raised.value.message
    assert "'pyannote/segmentation-3.0' is not in the folder" in message
    assert "nothing is downloaded" in message


def test_a_missing_checkpoint_file_is_named(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    (folder / "plda" / "plda.npz").unlink()
    with pytest.raises(ModelError, match=r"plda checkpoint .*plda\.npz"):
        PyannoteDiarizer(folder).check()


def test_a_checkpoint_left_out_of_the_config_is_an_error(tmp_path: Path) -> None:
    without_plda = COMMUNITY.replace("    plda: $model/plda\n", "")
    with pytest.raises(ModelError, match=r"names no plda checkpoint"):
        PyannoteDiarizer(_folder(tmp_path, without_plda)).check()


@pytest.mark.usefixtures("without_pyannote")
def test_without_the_extra_the_install_command_is_given(tmp_path: Path) -> None:
    with pytest.raises(MissingExtraError, match=r"pip install .*dsac-asr\[pyannote\]"):
        PyannoteDiarizer(_folder(tmp_path)).check()


@pytest.mark.usefixtures("without_pyannote")
def test_api_refuses_diarisation_without_the_backends_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSAC_DIARIZATION_BACKEND", "pyannote")
    api = make_harness(tmp_path / "api")
    try:
        _, headers = api.tenant("acme")
        response = api.upload(headers, diarize="true")
        assert response.status_code == 501, response.text
        assert "dsac-asr[pyannote]" in response.json()["error"]["message"]
    finally:
        api.client.close()
        api.store.close()


def test_cli_stops_at_once_when_the_folder_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSAC_DIARIZATION_BACKEND", "pyannote")
    monkeypatch.setenv("DSAC_DIARIZATION_MODEL", str(tmp_path / "nowhere"))
    audio = tmp_path / "call.wav"
    audio.write_bytes(b"RIFF")
    result = CliRunner().invoke(cli.app, ["transcribe", str(audio), "--diarize"])
    assert result.exit_code != 0
    assert isinstance(result.exception, ModelError)
    assert "nowhere does not exist" in result.exception.message


@dataclass(frozen=True)
class FakeSegment:
    start: float
    end: float


def test_annotation_tracks_become_turns_in_order_named_by_appearance() -> None:
    tracks = [
        (FakeSegment(3.0, 4.5), "a", "SPEAKER_01"),
        (FakeSegment(0.5, 2.0), "b", "SPEAKER_00"),
        (FakeSegment(1.5, 1.9), "c", "SPEAKER_01"),  # overlap: kept
        (FakeSegment(5.0, 5.0), "d", "SPEAKER_02"),  # empty: dropped
    ]
    assert annotation_turns(tracks) == [
        SpeakerTurn(0.5, 2.0, "A"),
        SpeakerTurn(1.5, 1.9, "B"),
        SpeakerTurn(3.0, 4.5, "B"),
    ]
