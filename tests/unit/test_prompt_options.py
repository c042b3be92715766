"""The ``prompt`` and ``temperature`` options: from the pipeline's options to the
engine's ``RecognitionRequest`` (the real pipeline and registry, a recording engine),
Whisper's ``initial_prompt``, and batching that keeps different prompts apart (a
real SQLite store)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from speech import write_wav

from dsac_asr.engines import RecognitionRequest, RecognizedSegment, RecognizedWord
from dsac_asr.engines.whisper import initial_prompt
from dsac_asr.errors import InvalidOptionError
from dsac_asr.jobs.batching import claim_mates, route_key
from dsac_asr.jobs.migrations import migrate
from dsac_asr.jobs.model import Job, JobOptions, JobSource, JobStatus, SourceKind
from dsac_asr.jobs.runner import JobBatching, WorkerContext
from dsac_asr.jobs.store import JobStore
from dsac_asr.models.registry import ModelRegistry
from dsac_asr.options import MAX_PROMPT_CHARS
from dsac_asr.pipeline import Pipeline, TranscriptionOptions
from dsac_asr.storage import LocalObjectStore

NAMES = "Siobhan Nkwinika, Xolisa Dlamini."


class RecordingEngine:
    """Says one word and keeps every request it was given."""

    sample_rate_hz = 16000

    def __init__(self) -> None:
        self.requests: list[RecognitionRequest] = []

    def recognize(
        self,
        samples: npt.NDArray[np.float32],
        request: RecognitionRequest,
        on_progress: Callable[[float], None] | None = None,
    ) -> list[RecognizedSegment]:
        self.requests.append(request)
        word = RecognizedWord("hello", 0.2, 0.6, 0.9)
        return [RecognizedSegment("hello", (word,), request.language)]


@pytest.fixture
def audio(tmp_path: Path) -> Path:
    noise = np.random.default_rng(0).normal(0, 0.01, 16000 * 3).astype(np.float32)
    return write_wav(tmp_path / "speech.wav", [noise], 16000)


def _requests(
    tmp_path: Path, audio: Path, options: TranscriptionOptions
) -> list[RecognitionRequest]:
    engine = RecordingEngine()
    registry = ModelRegistry(tmp_path / "models")  # the bundled Whisper models' manifests
    Pipeline(registry=registry, engine_for=lambda model, opts: engine).transcribe(audio, options)
    return engine.requests


def test_the_prompt_and_temperature_reach_the_engines_request(tmp_path: Path, audio: Path):
    options = TranscriptionOptions(language="eng", prompt=NAMES, temperature=0.4)
    (request,) = _requests(tmp_path, audio, options)
    assert (request.language, request.prompt, request.temperature) == ("eng", NAMES, 0.4)
    assert request.domain_prompt is None


def test_a_domain_prompt_and_the_callers_prompt_both_reach_the_engine(
    tmp_path: Path, audio: Path
) -> None:
    options = TranscriptionOptions(language="eng", domain="PARL", prompt=NAMES)
    (request,) = _requests(tmp_path, audio, options)
    assert request.domain_prompt is not None and "Chief Whip" in request.domain_prompt
    assert request.prompt == NAMES
    whisper_prompt = initial_prompt(request)
    assert whisper_prompt is not None
    assert whisper_prompt.startswith("Hansard") and whisper_prompt.endswith(NAMES)


def test_a_multilingual_request_carries_the_prompt(tmp_path: Path, audio: Path) -> None:
    (request,) = _requests(tmp_path, audio, TranscriptionOptions(language="mul", prompt=NAMES))
    assert request.candidate_languages and request.prompt == NAMES


def test_without_options_the_request_keeps_the_defaults(tmp_path: Path, audio: Path) -> None:
    (request,) = _requests(tmp_path, audio, TranscriptionOptions(language="eng", prompt=""))
    assert request.prompt is None and request.temperature is None


@pytest.mark.parametrize(
    "options",
    [
        TranscriptionOptions(prompt="x" * (MAX_PROMPT_CHARS + 1)),
        TranscriptionOptions(temperature=1.5),
        TranscriptionOptions(temperature=-0.1),
    ],
)
def test_a_bad_prompt_or_temperature_fails_before_any_work(
    tmp_path: Path, audio: Path, options: TranscriptionOptions
) -> None:
    with pytest.raises(InvalidOptionError):
        _requests(tmp_path, audio, options)


@pytest.mark.parametrize(
    ("domain", "prompt", "expected"),
    [
        (None, None, None),
        ("Hansard.", None, "Hansard."),
        (None, " Nkwinika. ", "Nkwinika."),
        ("Hansard.", "Nkwinika.", "Hansard. Nkwinika."),
        ("  ", "", None),
    ],
)
def test_whisper_reads_the_callers_prompt_after_the_domains(
    domain: str | None, prompt: str | None, expected: str | None
) -> None:
    assert initial_prompt(RecognitionRequest("eng", domain, prompt=prompt)) == expected


# --- batching --------------------------------------------------------------------------


def _job(job_id: str, tenant_id: str, **options: object) -> Job:
    return Job(
        id=job_id,
        tenant_id=tenant_id,
        status=JobStatus.QUEUED,
        source=JobSource(SourceKind.UPLOAD, "media", key=f"uploads/{job_id}/a.wav"),
        options=JobOptions(**options),  # type: ignore[arg-type]
        created_at=datetime.now(UTC),
    )


def test_the_batch_key_holds_the_prompt_and_temperature() -> None:
    plain = _job("a", "t")
    assert route_key(plain) == route_key(_job("b", "t", prompt=""))
    assert route_key(plain) != route_key(_job("c", "t", prompt=NAMES))
    assert route_key(_job("d", "t", prompt=NAMES)) == route_key(_job("e", "t", prompt=NAMES))
    assert route_key(plain) != route_key(_job("f", "t", temperature=0.5))
    assert route_key(plain) != route_key(_job("g", "t", temperature=0.0))


def test_only_jobs_with_the_same_prompt_are_claimed_as_batch_mates(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    migrate(url)
    store = JobStore.open(url)
    tenant = store.create_tenant("acme", ["media"])
    prompts = {"p1": NAMES, "p2": None, "p3": NAMES, "p4": "Other names.", "p5": NAMES}
    for job_id, prompt in prompts.items():
        store.create_job(_job(job_id, tenant.id, prompt=prompt))
    ctx = WorkerContext(
        store,
        LocalObjectStore(tmp_path / "objects"),
        Pipeline(registry=ModelRegistry(tmp_path / "models")),
        tmp_path / "tmp",
        batching=JobBatching(size=8, wait_s=0.0),
    )
    leader = store.claim("p1", 60.0)
    assert leader is not None
    assert sorted(job.id for job in claim_mates(leader, ctx)) == ["p3", "p5"]
    plain = store.claim("p2", 60.0)
    assert plain is not None
    assert claim_mates(plain, ctx) == []  # neither p4 (another prompt) nor any with NAMES
    assert store.get_job("p4", None).status is JobStatus.QUEUED


def test_an_unknown_channel_mode_fails_before_any_work_as_decoding_says(
    tmp_path: Path, audio: Path
) -> None:
    """The pipeline checks the channel mode with decoding's own rule (one list of modes)."""
    with pytest.raises(InvalidOptionError, match="unknown channel mode 'stereo'"):
        _requests(tmp_path, audio, TranscriptionOptions(channels="stereo"))
