"""The callback retry schedule, answers, seed bodies and sealed secrets
(delivery itself is tested against real servers in tests/integration)."""

from __future__ import annotations

import json
import random
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dsac_asr.callbacks.delivery import Outcome, rejection
from dsac_asr.callbacks.schedule import DEFAULT_DELAYS_S, RetrySchedule
from dsac_asr.callbacks.sealing import KEY_FILE_NAME, SecretBox, load_or_create_key
from dsac_asr.errors import InvalidOptionError, SecretError
from dsac_asr.jobs.callback_messages import seed_request
from dsac_asr.jobs.model import Job, JobError, JobOptions, JobSource, JobStatus, SourceKind


def test_the_default_schedule_is_standard_webhooks_and_spans_about_a_day() -> None:
    schedule = RetrySchedule()
    assert schedule.delays_s == (5, 300, 1800, 7200, 18000, 36000, 36000)
    assert schedule.max_attempts == 8
    assert 24 * 3600 <= schedule.span_s <= 30 * 3600


@pytest.mark.parametrize("attempt", range(1, len(DEFAULT_DELAYS_S) + 1))
def test_each_delay_is_the_scheduled_one_give_or_take_a_tenth(attempt: int) -> None:
    rng = random.Random(attempt)
    planned = DEFAULT_DELAYS_S[attempt - 1]
    delays = [RetrySchedule().delay_after_s(attempt, rng) for _ in range(200)]
    assert all(d is not None and 0.9 * planned <= d <= 1.1 * planned for d in delays)
    assert len(set(delays)) > 100  # jittered, not fixed


def test_no_delay_after_the_last_attempt() -> None:
    rng = random.Random(0)
    assert RetrySchedule().delay_after_s(8, rng) is None
    assert RetrySchedule((1.0,)).delay_after_s(1, rng) is not None
    assert RetrySchedule((1.0,)).delay_after_s(2, rng) is None
    assert RetrySchedule(()).max_attempts == 1


def test_a_schedule_is_parsed_from_settings() -> None:
    assert RetrySchedule.parse("0.5, 2,10").delays_s == (0.5, 2.0, 10.0)
    assert RetrySchedule.parse("").delays_s == ()
    for bad in ("5,soon", "-1"):
        with pytest.raises(InvalidOptionError):
            RetrySchedule.parse(bad)


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (b'{"result": "Error", "message": "Invalid API key"}', "Invalid API key"),
        (b'{"result": "error", "message": "no such job"}', "no such job"),
        (b'{"result": "Error"}', "the receiver answered result: Error"),
        (b'{"result": "Success"}', None),
        (b"OK", None),
        (b"", None),
        (b"[1, 2]", None),
        (b"\xff\xfe", None),
    ],
)
def test_a_front_end_refusal_in_a_200_is_a_rejection(reply: bytes, message: str | None) -> None:
    assert rejection(reply) == message


def test_final_outcomes() -> None:
    assert {o for o in Outcome if o.is_final} == {Outcome.DELIVERED, Outcome.GONE, Outcome.FAILED}


def _failed_seed_job(message: str) -> Job:
    return Job(
        id="j1", tenant_id="t", status=JobStatus.FAILED,
        source=JobSource(SourceKind.OBJECT, "media", key="in/a.wav"),
        options=JobOptions(tag="tag1", user_id="u", callback_style="seed",
                           callback_api_key="fernet:x", metadata={"seed_job_id": "fe-9"}),
        created_at=datetime.now(UTC), error=JobError("media_too_long", message),
    )  # fmt: skip


def _file_part(body: bytes) -> dict[str, object]:
    start = body.index(b"\r\n\r\n") + 4
    payload: dict[str, object] = json.loads(body[start : body.index(b"\r\n--", start)])
    return payload


def test_a_failed_seed_job_calls_back_with_a_transcript_the_front_end_can_show() -> None:
    job = _failed_seed_job("the recording is longer than the 4 hour limit")
    body, headers = seed_request(job, None, "front-end-key")
    assert headers["STATUS"] == "ERROR" and headers["S3-PATH"] == ""
    assert headers["JOB-ID"] == "fe-9" and headers["X-API-KEY"] == "front-end-key"
    payload = _file_part(body)
    assert payload["error"] == {
        "code": "media_too_long",
        "message": "the recording is longer than the 4 hour limit",
    }
    (result,) = payload["results"]  # type: ignore[misc]
    (alternative,) = result["alternatives"]
    assert alternative["transcript"] == (
        "Transcription failed: the recording is longer than the 4 hour limit."
    )
    (word,) = alternative["words"]
    assert set(word) == {"startTime", "endTime", "word", "confidence", "speaker"}
    assert word["word"] and word["speaker"] == "A"
    assert b'filename="tag1.json"' in body


def test_a_failure_without_a_message_still_says_it_failed() -> None:
    job = _failed_seed_job("")
    payload = _file_part(seed_request(job, None, None)[0])
    alternative = payload["results"][0]["alternatives"][0]  # type: ignore[index]
    assert alternative["transcript"] == "Transcription failed."


def test_a_sealed_secret_opens_only_with_its_key() -> None:
    box = SecretBox("server key one")
    sealed = box.seal("tenant-api-key-123")
    assert sealed.startswith("fernet:") and "tenant-api-key-123" not in sealed
    assert box.open(sealed) == "tenant-api-key-123"
    assert box.seal("tenant-api-key-123") != sealed  # fresh nonce every time
    with pytest.raises(SecretError):
        SecretBox("server key two").open(sealed)
    with pytest.raises(SecretError):
        box.open(sealed[:-4] + "AAAA")  # tampered
    assert box.open("stored-before-sealing") == "stored-before-sealing"


def test_the_embedded_key_is_made_once_and_private(tmp_path: Path) -> None:
    first = SecretBox.from_settings(None, tmp_path)
    sealed = first.seal("k")
    key_file = tmp_path / KEY_FILE_NAME
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_text()) >= 40
    assert SecretBox.from_settings(None, tmp_path).open(sealed) == "k"  # read back, not remade
    assert load_or_create_key(key_file) == key_file.read_text().strip()
    assert list(tmp_path.iterdir()) == [key_file]  # no drafts left behind
    with pytest.raises(SecretError):
        SecretBox.from_settings("DSAC_SECRET_KEY wins", tmp_path).open(sealed)
