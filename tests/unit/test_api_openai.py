"""``POST /v1/audio/transcriptions`` and ``GET /v1/models`` in OpenAI's shapes, through the
official ``openai`` client, on the API around real stores with a fake queue (a test thread
plays the worker: it finishes each job with a known transcript)."""

from __future__ import annotations

import io
import math
import struct
import threading
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from api_fakes import ApiHarness, finish_job, make_harness, small_transcript

from dsac_asr.jobs.model import JobStatus
from dsac_asr.transcript import Segment, Transcript, Word


def wav_bytes(duration_s: float = 1.0, rate_hz: int = 16000) -> bytes:
    """A mono 16-bit WAV of a quiet tone."""
    frames = int(duration_s * rate_hz)
    samples = (int(3000 * math.sin(2 * math.pi * 440 * i / rate_hz)) for i in range(frames))
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate_hz)
        wav.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return out.getvalue()


def two_speakers() -> Transcript:
    """The small transcript with speaker A then B."""
    words = [(Word("Hello", 0.5, 0.9, 0.95, "A"), Word("world.", 0.9, 1.4, 0.9, "A"))]
    words.append((Word("Goodbye", 2.0, 2.5, 0.4, "B"), Word("friend.", 2.5, 3.1, 0.85, "B")))
    segments = (Segment(words[0], "Hello world.", "A"), Segment(words[1], "Goodbye friend.", "B"))
    return Transcript(segments, "eng", "whisper-base", 4.0, {"engine": "fake"})


class Worker:
    """Plays the worker: finishes (or fails) each enqueued job a moment later."""

    def __init__(self, api: ApiHarness) -> None:
        self.api = api
        self.transcript = small_transcript()
        self.fail_with: tuple[str, str] | None = None
        self.threads: list[threading.Thread] = []
        api.queue.on_enqueue = self.start

    def start(self, job_id: str) -> None:
        thread = threading.Timer(0.2, self.finish, args=(job_id,))
        thread.start()
        self.threads.append(thread)

    def finish(self, job_id: str) -> None:
        if self.fail_with is None:
            finish_job(self.api, job_id, self.transcript)
            return
        claimed = self.api.store.claim(job_id, 60.0)
        assert claimed is not None
        self.api.store.finish_failure(job_id, *self.fail_with, lease_id=claimed.lease_id)

    def join(self) -> None:
        for thread in self.threads:
            thread.join()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiHarness]:
    harness = make_harness(tmp_path, openai_max_duration_s=5.0)
    yield harness
    harness.client.close()
    harness.store.close()


@pytest.fixture
def worker(api: ApiHarness) -> Iterator[Worker]:
    found = Worker(api)
    yield found
    found.join()


def key_of(api: ApiHarness, name: str = "acme") -> str:
    _, headers = api.tenant(name)
    return headers["Authorization"].removeprefix("Bearer ")


def client(api: ApiHarness, key: str) -> openai.OpenAI:
    """The official client, talking to the test app through its transport."""
    return openai.OpenAI(
        api_key=key, base_url="http://testserver/v1", http_client=api.client, max_retries=0
    )


def transcribe(api: ApiHarness, key: str, **fields: Any) -> Any:
    return client(api, key).audio.transcriptions.create(
        file=("clip.wav", wav_bytes()), model="whisper-1", **fields
    )


def post(api: ApiHarness, key: str | None, data: dict[str, Any], body: bytes | None = None) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    files = {"file": ("clip.wav", wav_bytes() if body is None else body, "audio/wav")}
    return api.client.post("/v1/audio/transcriptions", headers=headers, files=files, data=data)


# --- success through the official client -----------------------------------------------


def test_json_gives_the_text(api: ApiHarness, worker: Worker) -> None:
    result = transcribe(api, key_of(api), language="en")
    assert result.text == "Hello world. Goodbye friend."


def test_the_request_runs_as_a_private_job_of_the_tenant(api: ApiHarness, worker: Worker) -> None:
    tenant, headers = api.tenant("acme")
    key = headers["Authorization"].removeprefix("Bearer ")
    transcribe(api, key, language="af")
    jobs, _ = api.store.list_jobs(tenant.id, status=None, limit=10, cursor=None)
    assert len(jobs) == 1 and jobs[0].status is JobStatus.SUCCEEDED
    assert jobs[0].options.language == "afr"
    assert jobs[0].options.private is True
    assert jobs[0].source.filename == "clip.wav"
    assert api.queue.enqueued == [jobs[0].id]


def test_verbose_json_with_word_and_segment_timestamps(api: ApiHarness, worker: Worker) -> None:
    worker.transcript = two_speakers()
    result = transcribe(
        api,
        key_of(api),
        language="eng",
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
    )
    assert result.language == "english"
    assert result.duration == 4.0
    assert [w.word for w in result.words] == ["Hello", "world.", "Goodbye", "friend."]
    assert (result.words[2].start, result.words[2].end) == (2.0, 2.5)
    assert [s.text for s in result.segments] == ["Hello world.", "Goodbye friend."]
    assert (result.segments[1].start, result.segments[1].end) == (2.0, 3.1)
    extra = result.model_dump()
    assert extra["words"][2]["speaker"] == "B"
    assert extra["words"][2]["confidence"] == 0.4


def test_verbose_json_without_granularities_has_segments_only(
    api: ApiHarness, worker: Worker
) -> None:
    response = post(api, key_of(api), {"response_format": "verbose_json"})
    assert response.status_code == 200
    body = response.json()
    assert body["task"] == "transcribe" and len(body["segments"]) == 2
    assert "words" not in body


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [("srt", "1\n00:00:00,500 --> "), ("vtt", "WEBVTT"), ("text", "Hello world. Goodbye")],
)
def test_text_formats(api: ApiHarness, worker: Worker, fmt: str, expected: str) -> None:
    result = transcribe(api, key_of(api), response_format=fmt)
    assert isinstance(result, str)
    assert result.startswith(expected)
    assert "Goodbye friend." in result


def test_one_of_our_model_ids_is_accepted(api: ApiHarness, worker: Worker) -> None:
    key = key_of(api)
    result = client(api, key).audio.transcriptions.create(
        file=("clip.wav", wav_bytes()), model="whisper-tiny.en"
    )
    assert result.text
    assert api.store.get_job(api.queue.enqueued[0], None).options.model == "whisper-tiny.en"


def test_prompt_and_temperature_become_the_jobs_options(api: ApiHarness, worker: Worker) -> None:
    transcribe(api, key_of(api), prompt="Siobhan Nkwinika, Xolisa Dlamini.", temperature=0.3)
    options = api.store.get_job(api.queue.enqueued[0], None).options
    assert options.prompt == "Siobhan Nkwinika, Xolisa Dlamini."
    assert options.temperature == 0.3


def test_without_prompt_or_temperature_decoding_keeps_its_defaults(
    api: ApiHarness, worker: Worker
) -> None:
    transcribe(api, key_of(api))
    options = api.store.get_job(api.queue.enqueued[0], None).options
    assert options.prompt is None and options.temperature is None


# --- errors in OpenAI's shape ---------------------------------------------------------


def test_a_bad_key_is_an_authentication_error(api: ApiHarness) -> None:
    with pytest.raises(openai.AuthenticationError) as raised:
        transcribe(api, "dsac_not_a_key")
    assert raised.value.status_code == 401
    body = raised.value.body
    assert isinstance(body, dict)
    assert body["type"] == "invalid_request_error" and body["code"] == "invalid_api_key"
    assert api.queue.enqueued == []


def test_error_bodies_have_all_four_fields(api: ApiHarness) -> None:
    response = post(api, None, {})
    assert response.status_code == 401
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}


@pytest.mark.parametrize(
    ("data", "param"),
    [
        ({"response_format": "xml"}, "response_format"),
        ({"language": "klingon"}, "language"),
        ({"model": "no-such-model"}, "model"),
        ({"timestamp_granularities[]": "syllable"}, "timestamp_granularities[]"),
        ({"temperature": "3"}, "temperature"),
        ({"temperature": "-0.1"}, "temperature"),
        ({"prompt": "x" * 1001}, "prompt"),
    ],
)
def test_bad_fields_are_400_naming_the_param(
    api: ApiHarness, data: dict[str, str], param: str
) -> None:
    response = post(api, key_of(api), data)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert api.queue.enqueued == []


def test_a_language_without_a_model_says_so(api: ApiHarness) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        transcribe(api, key_of(api), language="zu")
    assert raised.value.code == "no_model"
    assert "zul" in raised.value.message


def test_not_media_is_400_about_the_file(api: ApiHarness) -> None:
    response = post(api, key_of(api), {}, body=b"this is not audio at all")
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "file"
    assert api.queue.enqueued == []


def test_a_file_over_the_sync_duration_is_413_pointing_to_jobs(api: ApiHarness) -> None:
    response = post(api, key_of(api), {}, body=wav_bytes(duration_s=6.0))
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "audio_too_long" and error["param"] == "file"
    assert "/v1/jobs" in error["message"]
    assert api.queue.enqueued == []


def test_a_failed_job_answers_with_its_error(api: ApiHarness, worker: Worker) -> None:
    worker.fail_with = ("corrupt_media", "the audio stream is corrupt at 0.4 s")
    with pytest.raises(openai.BadRequestError) as raised:
        transcribe(api, key_of(api))
    assert raised.value.code == "corrupt_media" and raised.value.param == "file"
    worker.fail_with = ("engine_error", "the engine crashed")
    with pytest.raises(openai.InternalServerError) as crashed:
        transcribe(api, key_of(api, "globex"))
    assert crashed.value.code == "engine_error" and crashed.value.param is None


def test_native_routes_keep_their_own_error_shape(api: ApiHarness) -> None:
    response = api.client.get("/v1/jobs")
    assert response.json() == {
        "error": {"code": "unauthorized", "message": response.json()["error"]["message"]}
    }


# --- models ----------------------------------------------------------------------------


def test_models_list_through_the_official_client(api: ApiHarness) -> None:
    models = client(api, key_of(api)).models.list()
    by_id = {model.id: model for model in models}
    assert {"whisper-base", "whisper-tiny.en"} <= set(by_id)
    base = by_id["whisper-base"]
    assert base.object == "model" and isinstance(base.created, int) and base.owned_by
    assert base.model_dump()["languages"] == ["eng", "afr"]


def test_models_list_whisper_1_as_an_alias_that_routes_by_language(api: ApiHarness) -> None:
    by_id = {model.id: model for model in client(api, key_of(api)).models.list()}
    alias = by_id["whisper-1"].model_dump()
    assert alias["object"] == "model" and alias["engine"] == "alias"
    assert "language" in alias["description"]
    assert {"eng", "afr"} <= set(alias["languages"])
    assert "PARL" in alias["domains"]
    assert by_id["whisper-base"].model_dump()["engine"] == "whisper"  # the models stay listed
