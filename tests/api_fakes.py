"""The native API around real stores and a fake queue, for the API unit tests.

The store is a real SQLite ``JobStore`` and the object store a real
``LocalObjectStore``, both in a test's ``tmp_path``; only the queue is fake
(it records job ids, nothing runs jobs). ``finish_job`` plays the worker's part.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from dsac_asr.api.app import create_app
from dsac_asr.api.deps import ApiServices
from dsac_asr.config import Settings
from dsac_asr.errors import TransientError
from dsac_asr.jobs.migrations import migrate
from dsac_asr.jobs.model import Job, Tenant
from dsac_asr.jobs.results import write_results
from dsac_asr.jobs.store import JobStore
from dsac_asr.models.registry import ModelRegistry
from dsac_asr.storage import LocalObjectStore
from dsac_asr.transcript import Segment, Transcript, Word


@dataclass
class FakeQueue:
    """Records what was enqueued; can be told to fail like an unreachable broker."""

    enqueued: list[str] = field(default_factory=list)
    fail_enqueue: bool = False
    fail_ping: bool = False
    on_enqueue: Callable[[str], None] | None = None

    def enqueue(self, job_id: str) -> None:
        """Record ``job_id`` (or raise ``TransientError`` when told to fail); then call
        ``on_enqueue`` (a test playing the worker) if set."""
        if self.fail_enqueue:
            raise TransientError("the job queue is unreachable: broker down")
        self.enqueued.append(job_id)
        if self.on_enqueue is not None:
            self.on_enqueue(job_id)

    def ping(self) -> None:
        """Nothing, or ``TransientError`` when told to fail."""
        if self.fail_ping:
            raise TransientError("the job queue is unreachable: broker down")


@dataclass
class ApiHarness:
    """A test client and the real services behind it."""

    client: TestClient
    store: JobStore
    objects: LocalObjectStore
    queue: FakeQueue
    settings: Settings

    def tenant(self, name: str, buckets: tuple[str, ...] = ()) -> tuple[Tenant, dict[str, str]]:
        """A new tenant and the headers carrying a fresh key of it."""
        tenant = self.store.create_tenant(name, buckets)
        key, _ = self.store.issue_key(tenant.id)
        return tenant, bearer(key)

    def upload(
        self, headers: dict[str, str], data: bytes = b"RIFF fake audio", **fields: str
    ) -> httpx.Response:
        """POST /v1/jobs with a multipart upload named ``call.wav`` and form ``fields``."""
        files = {"file": ("call.wav", data, "audio/wav")}
        return self.client.post("/v1/jobs", headers=headers, files=files, data=fields)


def bearer(key: str) -> dict[str, str]:
    """``Authorization: Bearer`` headers for ``key``."""
    return {"Authorization": f"Bearer {key}"}


def make_harness(tmp_path: Path, **settings: Any) -> ApiHarness:
    """The API on a fresh SQLite store and object folder under ``tmp_path``."""
    url = f"sqlite:///{tmp_path / 'dsac.sqlite3'}"
    migrate(url)
    store = JobStore.open(url)
    objects = LocalObjectStore(tmp_path / "objects")
    config = Settings(data_dir=tmp_path, **settings)
    queue = FakeQueue()
    services = ApiServices(
        settings=config,
        store=store,
        objects=objects,
        registry=ModelRegistry(tmp_path / "models"),
        enqueue=queue.enqueue,
        ping_queue=queue.ping,
    )
    client = TestClient(create_app(services))
    return ApiHarness(client, store, objects, queue, config)


def small_transcript() -> Transcript:
    """Two English segments with known words."""
    hello = (Word("Hello", 0.5, 0.9, 0.95), Word("world.", 0.9, 1.4, 0.9))
    again = (Word("Goodbye", 2.0, 2.5, 0.8), Word("friend.", 2.5, 3.1, 0.85))
    return Transcript(
        segments=(
            Segment(words=hello, text="Hello world."),
            Segment(words=again, text="Goodbye friend."),
        ),
        language="en",
        model_id="whisper-base",
        duration_s=4.0,
        metadata={"engine": "fake"},
    )


def finish_job(harness: ApiHarness, job_id: str, transcript: Transcript) -> Job:
    """Do what a worker does: claim the job, store its result objects, mark it succeeded."""
    job = harness.store.claim(job_id, 60.0)
    if job is None:
        raise RuntimeError(f"job {job_id} could not be claimed")
    internal = harness.settings.internal_bucket
    key = write_results(harness.store, harness.objects, internal, job, transcript)
    done = harness.store.finish_success(
        job_id,
        job.lease_id or "",
        result_key=key,
        duration_s=transcript.duration_s,
        processing_s=0.5,
        model_id=transcript.model_id,
        transcript_metadata=dict(transcript.metadata),
    )
    if done is None:
        raise RuntimeError(f"job {job_id} was taken from its claim")
    return done


def raw_upload(filename: bytes, data: bytes, **fields: str) -> tuple[bytes, str]:
    """A multipart body whose file name is sent byte for byte (clients such as httpx
    escape NUL; a hand-made request does not)."""
    boundary = "dsacboundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="'.encode()
    parts.append(head + filename + b'"\r\nContent-Type: audio/wav\r\n\r\n' + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"
