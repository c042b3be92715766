"""API and worker together on a real model: a NUL in an upload's file name, and a failed
private job, each submitted over HTTP and actually run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from api_fakes import ApiHarness, make_harness, raw_upload

from dsac_asr.jobs.fetch import fetch_input
from dsac_asr.jobs.model import Job, JobOptions, JobSource, JobStatus, SourceKind
from dsac_asr.jobs.runner import WorkerContext, run_job
from dsac_asr.models.registry import ModelRegistry
from dsac_asr.pipeline import Pipeline

pytestmark = pytest.mark.integration


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[ApiHarness, WorkerContext]]:
    """The API with a worker that runs each job as soon as it is queued."""
    harness = make_harness(tmp_path)
    pipeline = Pipeline(registry=ModelRegistry(tmp_path / "models"))
    ctx = WorkerContext(harness.store, harness.objects, pipeline, tmp_path / "tmp")
    harness.queue.on_enqueue = lambda job_id: run_job(job_id, ctx) and None
    yield harness, ctx
    harness.client.close()
    harness.store.close()


def test_a_nul_in_the_file_name_is_transcribed(
    service: tuple[ApiHarness, WorkerContext], english_wav: Path
) -> None:
    api, _ = service
    _, headers = api.tenant("acme", ("media",))
    body, content_type = raw_upload(
        b"fox\x00.wav\x00../../x", english_wav.read_bytes(), model="whisper-tiny.en"
    )
    answer = api.client.post(
        "/v1/jobs", headers={**headers, "Content-Type": content_type}, content=body
    )
    assert answer.status_code == 202, answer.text
    job = api.client.get(f"/v1/jobs/{answer.json()['id']}", headers=headers).json()
    assert job["status"] == "succeeded", job["error"]
    assert "\x00" not in job["source"]["filename"]
    text = api.client.get(f"/v1/jobs/{job['id']}/transcript?format=txt", headers=headers).text
    assert "fox" in text.lower()


def test_a_failed_private_job_leaves_no_audio(service: tuple[ApiHarness, WorkerContext]) -> None:
    api, _ = service
    _, headers = api.tenant("acme", ("media",))
    answer = api.upload(headers, b"this is not audio" * 100, private="true")
    assert answer.status_code == 202
    job = api.client.get(f"/v1/jobs/{answer.json()['id']}", headers=headers).json()
    assert job["status"] == "failed"
    assert job["error"]["code"] == "not_media"
    assert not api.objects.exists("media", job["source"]["key"])


def test_a_stored_file_name_with_a_nul_never_reaches_the_file_system(
    service: tuple[ApiHarness, WorkerContext], tmp_path: Path
) -> None:
    """A job stored before names were cleaned keeps its NUL: the worker's local copy
    is named without it."""
    api, ctx = service
    api.objects.put_bytes("media", "uploads/j1/a.wav", b"RIFF", "audio/wav")
    source = JobSource(SourceKind.UPLOAD, "media", key="uploads/j1/a.wav", filename="a\x00.wav")
    job = Job("j1", "t", JobStatus.QUEUED, source, JobOptions(), datetime.now(UTC))
    path = fetch_input(
        job, api.objects, tmp_path, 1 << 20, policy=ctx.egress, timeouts=ctx.fetch_timeouts
    )
    assert path.name == "input.wav"
    assert path.read_bytes() == b"RIFF"
