"""``dsac-asr serve`` end to end, as a subprocess on loopback: the embedded default
(SQLite, local folder, filesystem queue) and the distributed path (PostgreSQL,
Redis, an S3-protocol server)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jiwer
import numpy as np
import pytest
from postgres_db import postgres_database
from redis_server import running_redis
from s3_server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, running_s3_server, s3_client
from service_harness import base_env, create_key, running_service, wait_for_job
from speech import SENTENCES, concatenate_speech, normalize_text, write_wav

from dsac_asr.jobs.model import JobStatus
from dsac_asr.jobs.store import JobStore
from dsac_asr.storage import LocalObjectStore, ObjectStore, S3ObjectStore

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]

MEDIA_TYPES = {
    "json": "application/json",
    "txt": "text/plain; charset=utf-8",
    "srt": "application/x-subrip",
    "vtt": "text/vtt; charset=utf-8",
    "ctm": "text/plain; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


@dataclass
class Backend:
    """Where a service under test keeps its jobs, messages and objects."""

    name: str
    env: dict[str, str]
    objects: ObjectStore
    database_url: str


@pytest.fixture(scope="module", params=["embedded", "distributed"])
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backend]:
    data_dir = tmp_path_factory.mktemp(request.param)
    env = base_env(data_dir)
    if request.param == "embedded":
        url = f"sqlite:///{data_dir / 'dsac.sqlite3'}"
        yield Backend("embedded", env, LocalObjectStore(data_dir / "objects"), url)
        return
    with postgres_database() as db_url, running_redis() as redis_url, running_s3_server() as s3:
        s3_client(s3).create_bucket(Bucket="media")
        env.update(
            DSAC_DATABASE_URL=db_url, DSAC_BROKER_URL=redis_url, DSAC_STORAGE_URL="s3://",
            DSAC_S3_ENDPOINT_URL=s3, DSAC_S3_REGION=REGION, AWS_ACCESS_KEY_ID=ACCESS_KEY_ID,
            AWS_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY,
        )  # fmt: skip
        objects = S3ObjectStore(
            endpoint_url=s3, region=REGION, access_key_id=ACCESS_KEY_ID,
            secret_access_key=SECRET_ACCESS_KEY,
        )  # fmt: skip
        yield Backend("distributed", env, objects, db_url)


@pytest.fixture(scope="module")
def sentences(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, str]:
    """About 35 s of clean English from flite's natural voices, and its text."""
    folder = tmp_path_factory.mktemp("service-speech")
    chosen = SENTENCES[:10]
    lines = [(("slt", "rms", "awb")[i % 3], text) for i, text in enumerate(chosen)]
    audio, _spans = concatenate_speech(folder, lines, 16000)
    path = write_wav(folder / "sentences.wav", [audio], 16000)
    return path.read_bytes(), " ".join(chosen)


@pytest.fixture(scope="module")
def long_speech(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """About 100 s of speech: keeps the single worker busy for several seconds."""
    folder = tmp_path_factory.mktemp("long-speech")
    audio, _spans = concatenate_speech(folder, [("rms", t) for t in SENTENCES], 16000)
    return write_wav(folder / "long.wav", [audio], 16000).read_bytes()


def _upload(client: object, data: bytes, **fields: str) -> str:
    response = client.post(  # type: ignore[attr-defined]
        "/v1/jobs", files={"file": ("speech.wav", data, "audio/wav")}, data=fields
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def test_transcribe_upload_and_object_in_every_format(
    backend: Backend, sentences: tuple[bytes, str], english_wav: Path, tmp_path: Path
) -> None:
    audio, reference = sentences
    key = create_key(backend.env, "acme", "media")
    rival = create_key(backend.env, "rival")
    backend.objects.put_bytes("media", "calls/fox.wav", english_wav.read_bytes(), "audio/wav")
    with (
        running_service(backend.env, tmp_path / "serve.log") as service,
        service.client(key) as api,
    ):
        upload_id = _upload(api, audio, language="eng", metadata='{"case": "42"}')
        created = api.post(
            "/v1/jobs",
            json={"source": {"object": {"bucket": "media", "key": "calls/fox.wav"}},
                  "model": "whisper-tiny.en", "diarize": True},
        )  # fmt: skip
        assert created.status_code == 202, created.text
        job = wait_for_job(api, upload_id)
        assert job["status"] == "succeeded", job
        assert job["model"] == "whisper-base" and job["duration_s"] > 20
        assert job["options"]["metadata"] == {"case": "42"}
        assert job["result"] == {"bucket": "media", "key": f"decoded/{upload_id}.json"}
        for fmt, media_type in MEDIA_TYPES.items():
            answer = api.get(f"/v1/jobs/{upload_id}/transcript", params={"format": fmt})
            assert answer.status_code == 200 and answer.headers["content-type"] == media_type
        text = api.get(f"/v1/jobs/{upload_id}/transcript", params={"format": "txt"}).text
        assert jiwer.wer(normalize_text(reference), normalize_text(text)) <= 0.10, text
        assert b'"results"' in backend.objects.get_bytes("media", f"decoded/{upload_id}.json")
        object_job = wait_for_job(api, created.json()["id"])
        assert object_job["status"] == "succeeded" and object_job["source"]["kind"] == "object"
        fox = api.get(f"/v1/jobs/{object_job['id']}/transcript", params={"format": "txt"}).text
        assert "fox" in fox.lower()
        _check_rttm(api, object_job["id"], upload_id)
        _check_isolation(service, rival, upload_id)
        with service.client("dsac_not-a-real-key") as stranger:
            assert stranger.get(f"/v1/jobs/{upload_id}").status_code == 401
        assert api.get(f"/v1/jobs/{upload_id}").status_code == 200


def _check_rttm(api: object, diarised_id: str, plain_id: str) -> None:
    """The diarised job's speaker turns as RTTM named by its id; none for the other job."""
    rttm = api.get(f"/v1/jobs/{diarised_id}/transcript", params={"format": "rttm"})  # type: ignore[attr-defined]
    assert rttm.status_code == 200, rttm.text
    rows = [line.split() for line in rttm.text.splitlines()]
    assert rows and all(len(row) == 10 for row in rows), rttm.text
    assert {(row[0], row[1], row[7]) for row in rows} == {("SPEAKER", diarised_id, "A")}
    refused = api.get(f"/v1/jobs/{plain_id}/transcript", params={"format": "rttm"})  # type: ignore[attr-defined]
    assert refused.status_code == 422 and "diarize" in refused.json()["error"]["message"]


def _check_isolation(service: object, rival_key: str, job_id: str) -> None:
    with service.client(rival_key) as rival:  # type: ignore[attr-defined]
        missing = rival.get("/v1/jobs/0123456789abcdef").json()
        assert rival.get(f"/v1/jobs/{job_id}").json() == {
            "error": {**missing["error"], "message": missing["error"]["message"].replace(
                "0123456789abcdef", job_id)}
        }  # fmt: skip
        assert rival.get(f"/v1/jobs/{job_id}").status_code == 404
        assert rival.get(f"/v1/jobs/{job_id}/transcript").status_code == 404
        assert rival.delete(f"/v1/jobs/{job_id}").status_code == 404
        assert rival.get("/v1/jobs").json()["jobs"] == []


def test_a_deleted_queued_job_never_runs(
    backend: Backend, long_speech: bytes, english_wav: Path, tmp_path: Path
) -> None:
    key = create_key(backend.env, "acme", "media")
    with (
        running_service(backend.env, tmp_path / "serve.log") as service,
        service.client(key) as api,
    ):
        busy = _upload(api, long_speech, language="eng")
        doomed = _upload(api, english_wav.read_bytes(), model="whisper-tiny.en")
        assert api.get(f"/v1/jobs/{doomed}").json()["status"] == "queued"
        assert api.delete(f"/v1/jobs/{doomed}").status_code == 204
        after = _upload(api, english_wav.read_bytes(), model="whisper-tiny.en")
        assert wait_for_job(api, busy)["status"] == "succeeded"
        assert wait_for_job(api, after)["status"] == "succeeded"
        assert api.get(f"/v1/jobs/{doomed}").status_code == 404
    assert not backend.objects.exists("media", f"decoded/{doomed}.json")
    assert not backend.objects.exists("media", f"uploads/{doomed}/speech.wav")


def test_restart_with_jobs_queued_completes_them_all(
    backend: Backend, sentences: tuple[bytes, str], tmp_path: Path
) -> None:
    key = create_key(backend.env, "acme", "media")
    with (
        running_service(backend.env, tmp_path / "first.log") as service,
        service.client(key) as api,
    ):
        job_ids = [_upload(api, sentences[0], language="eng") for _ in range(3)]
    store = JobStore.open(backend.database_url)
    try:
        statuses = [store.get_job(job_id, None).status for job_id in job_ids]
        assert JobStatus.QUEUED in statuses, statuses
        assert JobStatus.RUNNING not in statuses, statuses
        second = running_service(backend.env, tmp_path / "second.log")
        with second as service, service.client(key) as api:
            finished = [wait_for_job(api, job_id) for job_id in job_ids]
        assert [job["status"] for job in finished] == ["succeeded"] * 3
        assert all(store.get_job(job_id, None).attempts == 1 for job_id in job_ids)
        for job_id in job_ids:
            assert backend.objects.exists("media", f"decoded/{job_id}.json")
    finally:
        store.close()


def test_silence_and_bad_input_fail_or_succeed_clearly(backend: Backend, tmp_path: Path) -> None:
    key = create_key(backend.env, "acme", "media")
    silence = write_wav(tmp_path / "silence.wav", [np.zeros(16000 * 5, np.float32)], 16000)
    with (
        running_service(backend.env, tmp_path / "serve.log") as service,
        service.client(key) as api,
    ):
        quiet = _upload(api, silence.read_bytes(), model="whisper-tiny.en")
        junk = _upload(api, b"this is not audio" * 100, model="whisper-tiny.en")
        assert wait_for_job(api, quiet)["status"] == "succeeded"
        failed = wait_for_job(api, junk)
        assert failed["status"] == "failed" and failed["error"]["code"] == "not_media", failed
        words = api.get(f"/v1/jobs/{quiet}/transcript").json()["results"][0]["alternatives"][0]
        assert words["words"] == []
        assert api.get(f"/v1/jobs/{junk}/transcript").status_code == 409
