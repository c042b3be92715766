"""The queue task giving up on a job after its transient retries (a real SQLite store,
local object store and Celery app on the filesystem transport; a fake pipeline and task)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from dsac_asr.config import Settings
from dsac_asr.errors import TransientError
from dsac_asr.jobs.migrations import migrate
from dsac_asr.jobs.model import Job, JobOptions, JobSource, JobStatus, SourceKind
from dsac_asr.jobs.queue import JobQueue
from dsac_asr.jobs.runner import WorkerContext
from dsac_asr.jobs.store import JobStore
from dsac_asr.storage import LocalObjectStore


class UnreachablePipeline:
    """Every run meets a store that cannot be reached."""

    def transcribe(self, path: Path, options: object, on_progress: object) -> object:
        raise TransientError("model store unreachable")


def test_a_private_job_given_up_after_retries_deletes_its_audio(tmp_path: Path) -> None:
    """POPIA: a private job's audio goes whatever the failure, this one included."""
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    migrate(url)
    store = JobStore.open(url)
    objects = LocalObjectStore(tmp_path / "objects")
    tenant = store.create_tenant("acme", ["media"])
    objects.put_bytes("media", "uploads/j1/a.wav", b"RIFF....", "audio/wav")
    source = JobSource(SourceKind.UPLOAD, "media", key="uploads/j1/a.wav", filename="a.wav")
    options = JobOptions(private=True)
    store.create_job(Job("j1", tenant.id, JobStatus.QUEUED, source, options, datetime.now(UTC)))
    queue = JobQueue(Settings(data_dir=tmp_path / "data", max_transient_retries=0))
    queue._context = WorkerContext(store, objects, UnreachablePipeline(), tmp_path / "tmp")  # type: ignore[arg-type]
    notified: list[str] = []
    queue.notify = lambda job_id, delay_s=0.0: notified.append(job_id)  # type: ignore[method-assign]
    last_try = SimpleNamespace(request=SimpleNamespace(retries=0), max_retries=0)

    queue._execute(last_try, "j1")

    job = store.get_job("j1", None)
    assert job.status is JobStatus.FAILED and job.error is not None
    assert job.error.code == "transient" and notified == ["j1"]
    assert not objects.exists("media", "uploads/j1/a.wav")
    store.close()
