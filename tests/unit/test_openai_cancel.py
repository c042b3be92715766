"""A request to ``POST /v1/audio/transcriptions`` whose client went away: its job is
cancelled and the audio it uploaded is not left behind (the job is private)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from api_fakes import make_harness

from dsac_asr.api.routes_openai import _cancel_quietly
from dsac_asr.jobs.model import JobStatus


def test_a_cancelled_openai_job_leaves_no_audio_behind(tmp_path: Path) -> None:
    api = make_harness(tmp_path)
    _, headers = api.tenant("acme")
    response = api.upload(headers, private="true")  # what the OpenAI route submits
    assert response.status_code == 202, response.text
    job = api.store.get_job(response.json()["id"], None)
    assert job.source.key is not None
    assert api.objects.exists(job.source.bucket, job.source.key)

    _cancel_quietly(job, SimpleNamespace(store=api.store, objects=api.objects))  # type: ignore[arg-type]

    assert api.store.get_job(job.id, None).status is JobStatus.CANCELLED
    assert not api.objects.exists(job.source.bucket, job.source.key)
    api.client.close()
    api.store.close()
