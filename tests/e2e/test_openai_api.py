"""``POST /v1/audio/transcriptions`` of ``dsac-asr serve`` through the official ``openai``
client: the example call (8 kHz stereo, one speaker per channel) runs as a job of the key's
tenant on the service's own queue and worker, and comes back in OpenAI's formats."""

from __future__ import annotations

import io
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from service_harness import Service, base_env, create_key, running_service
from speech import concatenate_speech, write_wav

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CALL = Path(__file__).parents[2] / "examples" / "call.wav"
SYNC_LIMIT_S = 30
# As in tests/integration/test_prompt_effect.py: names whisper-base mangles unprompted.
NAME_LINES = (
    ("slt", "Please ask Siobhan Nkwinika to call Thabo back."),
    ("slt", "The report from Xolisa Dlamini reached Kgothatso Mokoena today."),
    ("awb", "Lwazi Ngcobo will meet Nomvula Sithole on Friday."),
)
NAMES = ("Nkwinika", "Xolisa", "Dlamini", "Kgothatso", "Mokoena", "Lwazi", "Ngcobo", "Nomvula")
NAMES_PROMPT = "Siobhan Nkwinika, Xolisa Dlamini, Kgothatso Mokoena, Lwazi Ngcobo, Nomvula Sithole."


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, str]]:
    folder = tmp_path_factory.mktemp("openai")
    env = base_env(folder / "data")
    env["DSAC_OPENAI_MAX_DURATION_S"] = str(SYNC_LIMIT_S)
    key = create_key(env, "acme")
    with running_service(env, folder / "serve.log") as running:
        yield running, key


def client(service: tuple[Service, str], key: str | None = None) -> openai.OpenAI:
    running, own_key = service
    return openai.OpenAI(
        api_key=key or own_key, base_url=f"{running.base_url}/v1", max_retries=0, timeout=300
    )


def silence_wav(duration_s: float) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\0\0" * int(8000 * duration_s))
    return out.getvalue()


def test_a_client_that_goes_away_cancels_its_job(service: tuple[Service, str]) -> None:
    """First in the module: the worker still has its model to load, so the job outlasts 0.5 s."""
    running, key = service
    with running.client(key) as http, CALL.open("rb") as audio:
        with pytest.raises(httpx.TimeoutException):
            http.post("/v1/audio/transcriptions", files={"file": audio}, timeout=0.5)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            job = http.get("/v1/jobs").json()["jobs"][0]
            if job["status"] != "queued" and job["status"] != "running":
                break
            time.sleep(0.3)
    assert job["status"] == "cancelled"


def test_json(service: tuple[Service, str]) -> None:
    with CALL.open("rb") as audio:
        result = client(service).audio.transcriptions.create(
            model="whisper-1", file=audio, language="en"
        )
    text = result.text.lower()
    assert "municipal health desk" in text
    assert "water" in text


def test_verbose_json_with_word_timestamps(service: tuple[Service, str]) -> None:
    with CALL.open("rb") as audio:
        result = client(service).audio.transcriptions.create(
            model="whisper-1",
            file=audio,
            language="en",
            response_format="verbose_json",
            timestamp_granularities=["word", "segment"],
        )
    assert result.language == "english"
    assert 20 < result.duration < 30
    assert result.words is not None and len(result.words) > 20
    starts = [w.start for w in result.words]
    assert starts == sorted(starts)
    assert all(w.end >= w.start for w in result.words)
    assert result.segments is not None and result.segments[0].start < 1.0
    speakers = {w["speaker"] for w in result.model_dump()["words"]}
    assert speakers == {"A", "B"}  # one speaker per channel


def test_srt(service: tuple[Service, str]) -> None:
    with CALL.open("rb") as audio:
        srt = client(service).audio.transcriptions.create(
            model="whisper-base", file=audio, language="eng", response_format="srt"
        )
    assert isinstance(srt, str)
    assert srt.startswith("1\n00:00:0")
    assert " --> " in srt and "municipal" in srt.lower()


def test_the_jobs_are_the_tenants_and_private(service: tuple[Service, str]) -> None:
    running, key = service
    with running.client(key) as http:
        jobs = http.get("/v1/jobs").json()["jobs"]
    mine = [j for j in jobs if j["status"] != "cancelled"]
    assert len(mine) >= 3 and all(j["options"]["private"] for j in mine)
    assert mine and all(j["status"] == "succeeded" for j in mine)
    with running.client(key) as http:
        gone = http.get(f"/v1/jobs/{mine[0]['id']}/audio")
    assert gone.status_code == 410


def test_a_bad_key_is_refused(service: tuple[Service, str]) -> None:
    with pytest.raises(openai.AuthenticationError) as raised, CALL.open("rb") as audio:
        client(service, key="dsac_wrong").audio.transcriptions.create(model="whisper-1", file=audio)
    assert raised.value.code == "invalid_api_key"


def test_a_file_over_the_sync_limit_points_to_jobs(service: tuple[Service, str]) -> None:
    with pytest.raises(openai.APIStatusError) as raised:
        client(service).audio.transcriptions.create(
            model="whisper-1", file=("long.wav", silence_wav(SYNC_LIMIT_S + 5))
        )
    assert raised.value.status_code == 413
    assert "/v1/jobs" in raised.value.message


def test_the_models_list(service: tuple[Service, str]) -> None:
    ids = {model.id for model in client(service).models.list()}
    assert {"whisper-base", "whisper-tiny.en", "whisper-1"} <= ids
    running, _ = service
    assert httpx.get(f"{running.base_url}/v1/models").status_code == 401


def test_a_prompt_reaches_whisper_through_the_job(
    service: tuple[Service, str], tmp_path: Path
) -> None:
    audio, _spans = concatenate_speech(tmp_path, list(NAME_LINES), 16000)
    wav = write_wav(tmp_path / "names.wav", [audio], 16000)
    with wav.open("rb") as file:
        result = client(service).audio.transcriptions.create(
            model="whisper-base", file=file, language="en", prompt=NAMES_PROMPT
        )
    assert len({name for name in NAMES if name in result.text}) >= 6, result.text
