"""Jobs that run together in one process share its memory budget: each reserves its
decoded size and working memory, and long files take turns instead of being held at once."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from speech import write_wav

from dsac_asr.audio.budget import WORKING_BYTES, SharedBudget, job_bytes
from dsac_asr.config import MediaLimits
from dsac_asr.engines import RecognitionRequest, RecognizedSegment, RecognizedWord
from dsac_asr.models.registry import ModelRegistry
from dsac_asr.pipeline import Pipeline, TranscriptionOptions

MB = 1024 * 1024
RATE_HZ = 16000


def test_a_job_reserves_its_samples_and_as_much_again_up_to_the_working_memory() -> None:
    limits = MediaLimits(max_decoded_bytes=1024 * MB)
    assert job_bytes(10 * MB, limits) == 20 * MB
    assert job_bytes(900 * MB, limits) == 900 * MB + WORKING_BYTES
    assert job_bytes(None, limits) == 1024 * MB + WORKING_BYTES  # unknown duration: all of it


def test_a_reservation_waits_until_enough_is_given_back() -> None:
    budget = SharedBudget(100, poll_s=0.01)
    order: list[str] = []
    waits: list[int] = []
    first_in = threading.Event()

    def first() -> None:
        with budget.reserved(70):
            first_in.set()
            time.sleep(0.2)
            order.append("first done")

    def second() -> None:
        first_in.wait()
        with budget.reserved(40, on_wait=lambda: waits.append(budget.used)):
            order.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert order == ["first done", "second in"]
    assert waits and set(waits) == {70}
    assert budget.used == 0


def test_small_reservations_share_and_a_too_large_one_takes_everything() -> None:
    budget = SharedBudget(100, poll_s=0.01)
    with budget.reserved(30), budget.reserved(30):
        assert budget.used == 60
    with budget.reserved(500):
        assert budget.used == 100
    assert budget.used == 0


def test_an_error_while_waiting_ends_the_wait_without_a_reservation() -> None:
    budget = SharedBudget(100, poll_s=0.01)

    def cancelled() -> None:
        raise RuntimeError("job cancelled")

    with budget.reserved(80):
        with pytest.raises(RuntimeError, match="cancelled"):
            with budget.reserved(80, on_wait=cancelled):
                pass
        assert budget.used == 80
    assert budget.used == 0


class HeldEngine:
    """Records how many recognitions run at once and what the budget holds meanwhile."""

    sample_rate_hz = RATE_HZ

    def __init__(self, budget: SharedBudget) -> None:
        self.budget, self.running, self.most, self.held = budget, 0, 0, []
        self._lock = threading.Lock()

    def recognize(
        self, samples: npt.NDArray[np.float32], request: RecognitionRequest, *args: Any
    ) -> list[RecognizedSegment]:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.held.append(self.budget.used)
        time.sleep(0.3)
        with self._lock:
            self.running -= 1
        return [RecognizedSegment("w", (RecognizedWord("w", 0.1, 0.2, 0.9),), request.language)]


def _run_two(tmp_path: Path, seconds: float, capacity: int) -> HeldEngine:
    noise = np.random.default_rng(0).normal(0, 0.01, int(seconds * RATE_HZ)).astype(np.float32)
    path = write_wav(tmp_path / "speech.wav", [noise], RATE_HZ)
    budget = SharedBudget(capacity, poll_s=0.02)
    engine = HeldEngine(budget)
    pipeline = Pipeline(
        registry=ModelRegistry(tmp_path / "models"),
        engine_for=lambda model, options: engine,
        shared_budget=budget,
    )
    options = TranscriptionOptions(model="whisper-tiny.en", punctuate=False)
    threads = [threading.Thread(target=pipeline.transcribe, args=(path, options)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert budget.used == 0
    return engine


def test_two_jobs_that_do_not_fit_together_take_turns(tmp_path: Path) -> None:
    engine = _run_two(tmp_path, 10.0, capacity=2 * 10 * RATE_HZ * 4 + MB)  # one job's samples x2
    assert engine.most == 1
    assert engine.held == [2 * 10 * RATE_HZ * 4] * 2


def test_two_jobs_that_fit_together_run_at_once(tmp_path: Path) -> None:
    engine = _run_two(tmp_path, 10.0, capacity=4 * 10 * RATE_HZ * 4)
    assert engine.most == 2
