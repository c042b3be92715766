"""The callback retry schedule (delivery itself is tested against real servers)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from dsac_asr.callbacks import AttemptResult, Outcome, next_delay_s, should_retry


@pytest.mark.parametrize("attempt", [1, 2, 3, 4, 5, 6])
def test_delay_doubles_with_equal_jitter(attempt: int) -> None:
    rng = random.Random(attempt)
    step_s = 5.0 * 2 ** (attempt - 1)
    delays = [next_delay_s(attempt, 5.0, rng) for _ in range(200)]
    assert all(step_s / 2 <= d <= step_s for d in delays)
    assert max(delays) - min(delays) > step_s / 4  # jittered, not fixed


def test_delay_is_capped() -> None:
    rng = random.Random(0)
    assert next_delay_s(100, 5.0, rng, max_delay_s=600.0) <= 600.0
    assert next_delay_s(10_000, 5.0, rng) <= 3600.0


def test_same_seed_same_schedule() -> None:
    first = [next_delay_s(n, 1.0, random.Random(7)) for n in range(1, 6)]
    again = [next_delay_s(n, 1.0, random.Random(7)) for n in range(1, 6)]
    assert first == again


def _result(outcome: Outcome) -> AttemptResult:
    return AttemptResult(datetime.now(UTC), None, None, outcome)


def test_retry_only_while_budget_lasts() -> None:
    assert should_retry(_result(Outcome.RETRY), 1, 3)
    assert should_retry(_result(Outcome.RETRY), 2, 3)
    assert not should_retry(_result(Outcome.RETRY), 3, 3)


@pytest.mark.parametrize("outcome", [Outcome.DELIVERED, Outcome.GONE])
def test_final_outcomes_are_not_retried(outcome: Outcome) -> None:
    assert not should_retry(_result(outcome), 1, 10)


def test_seed_error_callback_carries_the_error_beside_an_empty_result() -> None:
    import json
    from datetime import UTC, datetime

    from dsac_asr.jobs.model import Job, JobError, JobOptions, JobSource, JobStatus, SourceKind
    from dsac_asr.jobs.notify import seed_request

    job = Job(
        id="j1", tenant_id="t", status=JobStatus.FAILED,
        source=JobSource(SourceKind.OBJECT, "media", key="in/a.wav"),
        options=JobOptions(tag="tag1", user_id="u", callback_style="seed",
                           callback_api_key="fe", metadata={"seed_job_id": "fe-9"}),
        created_at=datetime.now(UTC), error=JobError("not_media", "not audio"),
    )  # fmt: skip
    body, headers = seed_request(job, None)
    assert headers["STATUS"] == "ERROR" and headers["S3-PATH"] == ""
    assert headers["JOB-ID"] == "fe-9" and headers["X-API-KEY"] == "fe"
    start = body.index(b"\r\n\r\n") + 4
    payload = json.loads(body[start : body.index(b"\r\n--", start)])
    assert payload["error"] == {"code": "not_media", "message": "not audio"}
    assert payload["results"][0]["alternatives"][0]["transcript"] == ""
    assert b'filename="tag1.json"' in body
