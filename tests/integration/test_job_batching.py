"""Short jobs run as one batch by the worker: real store, real Whisper, real speech.

Four short clips and one bad file are queued; running the first job takes
the others along. The bad file fails alone with its own error; the good jobs
succeed, with the words they get when run alone (each clip in its own
windows), or about as well when one tenant's clips share windows.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jiwer
import numpy as np
import numpy.typing as npt
import pytest
from speech import SENTENCES, concatenate_speech, normalize_text, write_wav

from dsac_asr.engines import Engine, EngineOptions, load_engine
from dsac_asr.engines.base import ProgressCallback, RecognitionRequest, RecognizedSegment
from dsac_asr.jobs.batching import run_batch, run_queued_like
from dsac_asr.jobs.migrations import migrate
from dsac_asr.jobs.model import Job, JobOptions, JobSource, JobStatus, SourceKind
from dsac_asr.jobs.runner import JobBatching, WorkerContext, transcript_key
from dsac_asr.jobs.store import JobStore
from dsac_asr.models.manifest import InstalledModel
from dsac_asr.models.registry import ModelRegistry
from dsac_asr.pipeline import Pipeline, TranscriptionOptions
from dsac_asr.storage import LocalObjectStore
from dsac_asr.transcript import Transcript
from dsac_asr.transcript.serialize import loads

pytestmark = pytest.mark.integration

VOICES = ("slt", "rms", "awb", "slt")
BAD_INDEX = 2
START = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


class RecordingLoader:
    """``load_engine`` (one engine per model, as the pool expects), with each
    ``recognize_many`` call's number of clips recorded."""

    def __init__(self) -> None:
        self.batch_sizes: list[int] = []
        self._engines: dict[str, Engine] = {}
        self._lock = threading.Lock()

    def __call__(self, model: InstalledModel, options: EngineOptions) -> Engine:
        with self._lock:  # called from each job's thread
            if model.id not in self._engines:
                engine = _Recorded(load_engine(model, options), self.batch_sizes)
                self._engines[model.id] = engine
            return self._engines[model.id]


class _Recorded:
    def __init__(self, engine: Engine, sizes: list[int]) -> None:
        self.engine, self.sizes = engine, sizes
        self.sample_rate_hz = engine.sample_rate_hz

    def recognize(
        self,
        samples: npt.NDArray[np.float32],
        request: RecognitionRequest,
        on_progress: ProgressCallback | None = None,
    ) -> list[RecognizedSegment]:
        return self.engine.recognize(samples, request, on_progress)

    def recognize_many(
        self,
        clips: Sequence[npt.NDArray[np.float32]],
        request: RecognitionRequest,
        on_progress: ProgressCallback | None = None,
        share: Sequence[Hashable | None] | None = None,
    ) -> list[list[RecognizedSegment]]:
        self.sizes.append(len(clips))
        return self.engine.recognize_many(clips, request, on_progress, share)  # type: ignore[attr-defined,no-any-return]


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, str]]:
    """Four clips of two sentences (3-6 s), each by one flite voice, and their text."""
    folder = tmp_path_factory.mktemp("short-clips")
    made = []
    for index, voice in enumerate(VOICES):
        pair = list(SENTENCES[2 * index : 2 * index + 2])
        audio, _spans = concatenate_speech(folder, [(voice, text) for text in pair], 16000, 0.3)
        made.append((write_wav(folder / f"clip{index}.wav", [audio], 16000), " ".join(pair)))
    return made


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    return Pipeline(registry=ModelRegistry(tmp_path_factory.mktemp("models")))


@pytest.fixture(scope="module")
def alone(pipeline: Pipeline, clips: list[tuple[Path, str]]) -> list[Transcript]:
    """Each clip transcribed on its own, with the options the jobs have."""
    return [pipeline.transcribe(path, TranscriptionOptions()) for path, _text in clips]


def _words(transcript: Transcript) -> list[str]:
    return [word.text for segment in transcript.segments for word in segment.words]


def _queue_jobs(
    store: JobStore, objects: LocalObjectStore, clips: list[tuple[Path, str]]
) -> list[str]:
    """The clips as queued upload jobs, oldest first, with a non-media file among them."""
    tenant = store.create_tenant("acme", ["media"])
    inputs = [path.read_bytes() for path, _text in clips]
    inputs.insert(BAD_INDEX, b"this is a text file, not audio\n" * 100)
    ids = []
    for index, data in enumerate(inputs):
        job_id, key = f"job{index}", f"uploads/job{index}/clip.wav"
        objects.put_bytes("media", key, data, "audio/wav")
        source = JobSource(SourceKind.UPLOAD, "media", key=key, filename="clip.wav")
        created = START + timedelta(seconds=index)
        store.create_job(Job(job_id, tenant.id, JobStatus.QUEUED, source, JobOptions(), created))
        ids.append(job_id)
    return ids


def _run_batch_of_five(
    tmp_path: Path,
    pipeline: Pipeline,
    clips: list[tuple[Path, str]],
    share_windows: bool,
    size: int = 8,
) -> tuple[WorkerContext, list[str], dict[str, JobStatus | None], RecordingLoader]:
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    migrate(url)
    store, objects = JobStore.open(url), LocalObjectStore(tmp_path / "objects")
    ids = _queue_jobs(store, objects, clips)
    loader = RecordingLoader()
    batching = JobBatching(size=size, wait_s=0.0, share_windows=share_windows)
    recorded = replace(pipeline, engine_for=loader)
    ctx = WorkerContext(store, objects, recorded, tmp_path / "tmp", batching=batching)
    mates: dict[str, JobStatus | None] = {}
    leader = run_batch(ids[0], ctx, mates.__setitem__)
    assert leader is JobStatus.SUCCEEDED
    return ctx, ids, mates, loader


def _transcripts(ctx: WorkerContext, ids: list[str]) -> list[Transcript]:
    good = [job_id for index, job_id in enumerate(ids) if index != BAD_INDEX]
    bucket = ctx.internal_bucket
    return [loads(ctx.objects.get_bytes(bucket, transcript_key(job_id))) for job_id in good]


def _check_bad_one_failed_alone(
    ctx: WorkerContext, ids: list[str], mates: dict[str, JobStatus | None]
) -> None:
    expected = {job_id: JobStatus.SUCCEEDED for job_id in ids[1:]}
    expected[ids[BAD_INDEX]] = JobStatus.FAILED
    assert mates == expected
    bad = ctx.store.get_job(ids[BAD_INDEX], None)
    assert bad.error is not None and bad.error.code == "not_media"
    for job_id in ids:
        if job_id != ids[BAD_INDEX]:
            assert ctx.store.get_job(job_id, None).status is JobStatus.SUCCEEDED


def test_a_batch_with_a_bad_file_gives_the_good_ones_their_words_alone(
    tmp_path: Path, pipeline: Pipeline, clips: list[tuple[Path, str]], alone: list[Transcript]
) -> None:
    ctx, ids, mates, loader = _run_batch_of_five(tmp_path, pipeline, clips, share_windows=False)
    _check_bad_one_failed_alone(ctx, ids, mates)
    assert loader.batch_sizes == [len(clips)]  # the four good clips were recognised together
    batched = _transcripts(ctx, ids)
    assert [_words(t) for t in batched] == [_words(t) for t in alone]
    assert all(b.duration_s == a.duration_s for b, a in zip(batched, alone, strict=True))
    assert run_batch(ids[1], ctx, lambda *_: None) is None  # its own message: not run twice


def test_shared_windows_keep_each_jobs_words_apart(
    tmp_path: Path, pipeline: Pipeline, clips: list[tuple[Path, str]], alone: list[Transcript]
) -> None:
    ctx, ids, mates, loader = _run_batch_of_five(tmp_path, pipeline, clips, share_windows=True)
    _check_bad_one_failed_alone(ctx, ids, mates)
    assert loader.batch_sizes == [len(clips)]
    references = [normalize_text(text) for _path, text in clips]
    shared = [normalize_text(t.text) for t in _transcripts(ctx, ids)]
    own = [normalize_text(t.text) for t in alone]
    for reference, words in zip(references, shared, strict=True):
        assert jiwer.wer(reference, words) <= 0.25, (reference, words)  # no neighbour's words
    assert jiwer.wer(references, shared) <= jiwer.wer(references, own) + 0.05


def test_after_its_batch_a_worker_runs_the_queued_jobs_routed_alike(
    tmp_path: Path, pipeline: Pipeline, clips: list[tuple[Path, str]]
) -> None:
    ctx, ids, mates, loader = _run_batch_of_two_then_the_rest(tmp_path, pipeline, clips)
    assert loader.batch_sizes[0] == 2  # the leader and one mate
    _check_bad_one_failed_alone(ctx, ids, mates)
    assert ctx.store.get_job("other-language", None).status is JobStatus.QUEUED


def _run_batch_of_two_then_the_rest(
    tmp_path: Path, pipeline: Pipeline, clips: list[tuple[Path, str]]
) -> tuple[WorkerContext, list[str], dict[str, JobStatus | None], RecordingLoader]:
    """Batches of two: the leader's own, then the others without their messages."""
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    migrate(url)
    store, objects = JobStore.open(url), LocalObjectStore(tmp_path / "objects")
    ids = _queue_jobs(store, objects, clips)
    first = store.get_job(ids[0], None)
    afrikaans = replace(first, id="other-language", options=JobOptions(language="afr"))
    store.create_job(replace(afrikaans, created_at=START - timedelta(seconds=1)))
    loader = RecordingLoader()
    ctx = WorkerContext(
        store,
        objects,
        replace(pipeline, engine_for=loader),
        tmp_path / "tmp",
        batching=JobBatching(size=2, wait_s=0.0, share_windows=True),
    )
    mates: dict[str, JobStatus | None] = {}
    assert run_batch(ids[0], ctx, mates.__setitem__) is JobStatus.SUCCEEDED
    assert run_queued_like(ids[0], ctx, mates.__setitem__) == len(ids) - 2
    assert run_queued_like(ids[0], ctx, mates.__setitem__) == 0  # nothing left like it
    return ctx, ids, mates, loader
