"""Pooled recognition (several callers' short clips in one batch) and joint speech,
with a fake engine that records its calls (a unit test of the pooling logic)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt
import pytest

from dsac_asr.engines import Engine, EngineOptions
from dsac_asr.engines.base import (
    ProgressCallback,
    RecognitionRequest,
    RecognizedSegment,
    RecognizedWord,
)
from dsac_asr.engines.joint import CLIP_GAP_S, join_speech
from dsac_asr.engines.pooling import PoolMember, RecognitionPool
from dsac_asr.engines.regions import Region, collapse
from dsac_asr.errors import EngineError
from dsac_asr.models.manifest import InstalledModel

RATE = 100
ENGLISH = RecognitionRequest("eng")


class RecordingEngine:
    """Says each clip's first sample as a word; a clip starting with -1 is bad."""

    sample_rate_hz = RATE

    def __init__(self) -> None:
        self.batches: list[tuple[int, tuple[Hashable | None, ...]]] = []
        self.alone = 0
        self._lock = threading.Lock()

    def recognize(
        self,
        samples: npt.NDArray[np.float32],
        request: RecognitionRequest,
        on_progress: ProgressCallback | None = None,
    ) -> list[RecognizedSegment]:
        with self._lock:
            self.alone += 1
        return _said(samples)

    def recognize_many(
        self,
        clips: Sequence[npt.NDArray[np.float32]],
        request: RecognitionRequest,
        on_progress: ProgressCallback | None = None,
        share: Sequence[Hashable | None] | None = None,
    ) -> list[list[RecognizedSegment]]:
        with self._lock:
            self.batches.append((len(clips), tuple(share or ())))
        if on_progress is not None:
            on_progress(0.5)
        return [_said(clip) for clip in clips]


def _said(samples: npt.NDArray[np.float32]) -> list[RecognizedSegment]:
    if samples[0] < 0:
        raise EngineError("cannot recognise this clip")
    word = RecognizedWord(f"w{int(samples[0])}", 0.0, 0.1, 1.0)
    return [RecognizedSegment(word.text, (word,))]


def _clip(value: float, seconds: float = 1.0) -> npt.NDArray[np.float32]:
    return np.full(int(seconds * RATE), value, np.float32)


def _loader(engine: RecordingEngine) -> Callable[[InstalledModel, EngineOptions], Engine]:
    return lambda _model, _options: engine


def _run(
    members: list[PoolMember],
    work: list[Callable[[Engine], list[RecognizedSegment]]],
) -> list[list[RecognizedSegment] | Exception]:
    """Each member's work in a thread of its own; what each returned or raised."""

    def one(member: PoolMember, task: Callable[[Engine], list[RecognizedSegment]]) -> object:
        with member:
            try:
                return task(member.engine(None, EngineOptions()))  # type: ignore[arg-type]
            except Exception as exc:
                return exc

    with ThreadPoolExecutor(len(members)) as threads:
        futures = [threads.submit(one, m, w) for m, w in zip(members, work, strict=True)]
    return [f.result(timeout=30) for f in futures]  # type: ignore[misc]


def _say(value: float, seconds: float = 1.0) -> Callable[[Engine], list[RecognizedSegment]]:
    return lambda engine: engine.recognize(_clip(value, seconds), ENGLISH)


def _words(result: list[RecognizedSegment] | Exception) -> list[str]:
    assert not isinstance(result, Exception), result
    return [w.text for s in result for w in s.words]


def test_every_members_clip_is_recognised_in_one_batch() -> None:
    engine, pool = RecordingEngine(), RecognitionPool(gather_s=10)
    members = [pool.member(_loader(engine), "acme") for _ in range(4)]
    results = _run(members, [_say(v) for v in (1, 2, 3, 4)])
    assert [_words(r) for r in results] == [["w1"], ["w2"], ["w3"], ["w4"]]
    assert engine.batches == [(4, ("acme",) * 4)] and engine.alone == 0


def test_requests_with_different_prompts_are_never_batched_together() -> None:
    engine, pool = RecordingEngine(), RecognitionPool(gather_s=10)
    members = [pool.member(_loader(engine), "acme") for _ in range(4)]
    prompts = ["Nkwinika.", None, "Nkwinika.", "Dlamini."]

    def say(value: float, prompt: str | None) -> Callable[[Engine], list[RecognizedSegment]]:
        request = RecognitionRequest("eng", prompt=prompt)
        return lambda member: member.recognize(_clip(value), request)

    results = _run(members, [say(v, p) for v, p in zip((1, 2, 3, 4), prompts, strict=True)])
    assert [_words(r) for r in results] == [["w1"], ["w2"], ["w3"], ["w4"]]
    assert sorted(size for size, _share in engine.batches) == [1, 1, 2]


def test_a_member_that_leaves_without_recognising_does_not_hold_the_batch() -> None:
    engine, pool = RecordingEngine(), RecognitionPool(gather_s=30)
    members = [pool.member(_loader(engine)) for _ in range(3)]

    def fails_before(_engine: Engine) -> list[RecognizedSegment]:
        raise ValueError("not an audio file")

    results = _run(members, [_say(1), fails_before, _say(3)])
    assert _words(results[0]) == ["w1"] and _words(results[2]) == ["w3"]
    assert isinstance(results[1], ValueError)
    assert engine.batches == [(2, (None, None))]


def test_a_bad_clip_fails_alone_when_its_batch_fails() -> None:
    engine, pool = RecordingEngine(), RecognitionPool(gather_s=10)
    members = [pool.member(_loader(engine)) for _ in range(3)]
    results = _run(members, [_say(1), _say(-1), _say(3)])
    assert _words(results[0]) == ["w1"] and _words(results[2]) == ["w3"]
    assert isinstance(results[1], EngineError)
    assert engine.batches[0][0] == 3 and len(engine.batches) == 4  # then one by one


def test_an_error_in_one_callers_progress_stops_only_that_caller() -> None:
    engine, pool = RecordingEngine(), RecognitionPool(gather_s=10)
    members = [pool.member(_loader(engine)) for _ in range(2)]

    def cancelled(_fraction: float) -> None:
        raise RuntimeError("job cancelled")

    results = _run(
        members,
        [_say(1), lambda engine: engine.recognize(_clip(2), ENGLISH, cancelled)],
    )
    assert _words(results[0]) == ["w1"]
    assert isinstance(results[1], RuntimeError) and str(results[1]) == "job cancelled"


def test_long_clips_are_recognised_alone_and_do_not_hold_the_batch() -> None:
    engine, pool = RecordingEngine(), RecognitionPool(gather_s=30, short_s=5)
    members = [pool.member(_loader(engine)) for _ in range(3)]
    results = _run(members, [_say(1), _say(2, seconds=6), _say(3)])
    assert [_words(r) for r in results] == [["w1"], ["w2"], ["w3"]]
    assert engine.batches == [(2, (None, None))] and engine.alone == 1


class SlowEngine(RecordingEngine):
    """Takes ``seconds`` over each clip recognised alone."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def recognize(
        self,
        samples: npt.NDArray[np.float32],
        request: RecognitionRequest,
        on_progress: ProgressCallback | None = None,
    ) -> list[RecognizedSegment]:
        time.sleep(self.seconds)
        return super().recognize(samples, request, on_progress)


def test_a_long_clip_waiting_for_its_turn_keeps_reporting() -> None:
    engine, pool = SlowEngine(seconds=1.5), RecognitionPool(gather_s=30, short_s=0.5)
    members = [pool.member(_loader(engine)) for _ in range(2)]
    reports: list[list[float]] = [[], []]

    def long_clip(index: int) -> Callable[[Engine], list[RecognizedSegment]]:
        return lambda engine: engine.recognize(_clip(index + 1), ENGLISH, reports[index].append)

    results = _run(members, [long_clip(0), long_clip(1)])
    assert [_words(r) for r in results] == [["w1"], ["w2"]] and engine.alone == 2
    waited = [r for r in reports if r]  # the one that waited about 1.5 s for the other
    assert len(waited) == 1 and waited[0][0] == 0.0


def test_a_waiting_clip_runs_after_gather_time_without_a_slow_member() -> None:
    engine, pool = RecordingEngine(), RecognitionPool(gather_s=0.2)
    members = [pool.member(_loader(engine)) for _ in range(2)]
    release = threading.Event()

    def slow(engine: Engine) -> list[RecognizedSegment]:
        assert release.wait(10)
        return engine.recognize(_clip(2), ENGLISH)

    def first(engine: Engine) -> list[RecognizedSegment]:
        result = engine.recognize(_clip(1), ENGLISH)
        release.set()
        return result

    results = _run(members, [first, slow])
    assert [_words(r) for r in results] == [["w1"], ["w2"]]
    assert engine.batches == [(1, (None,)), (1, (None,))]


def _speech(*lengths_s: float) -> list[npt.NDArray[np.float32]]:
    return [np.ones(int(length * RATE), np.float32) for length in lengths_s]


def test_joint_speech_gives_each_clip_its_own_windows_unless_shared() -> None:
    clips = [collapse(s, [Region(0, len(s))], RATE) for s in _speech(4, 5, 6, 3)]
    alone = join_speech(clips, 30.0)
    assert len(alone.windows) == 4
    assert [alone.clip_at((w.start + w.end) / 2 / RATE) for w in alone.windows] == [0, 1, 2, 3]
    gap = int(CLIP_GAP_S * RATE)
    assert alone.starts == (0, 400 + gap, 900 + 2 * gap, 1500 + 3 * gap)
    shared = join_speech(clips, 30.0, ["a", "a", "b", "b"])
    assert shared.windows == (Region(0, 900 + gap), Region(900 + 2 * gap, 1800 + 3 * gap))


def test_joint_times_map_back_to_each_clips_own_audio() -> None:
    samples = np.ones(10 * RATE, np.float32)
    first = collapse(samples, [Region(0, 2 * RATE)], RATE)
    second = collapse(samples, [Region(5 * RATE, 8 * RATE)], RATE)
    joint = join_speech([first, second], 30.0, ["a", "a"])
    offset_s = 2 + CLIP_GAP_S
    assert joint.clip_at(offset_s + 0.5) == 1 and joint.clip_at(1.9) == 0
    assert joint.clip_at(2 + CLIP_GAP_S * 0.4) == 0  # a word in the gap goes to the nearer clip
    assert joint.times_of(1).to_original(offset_s + 0.5, offset_s + 1.0) == pytest.approx(
        (5.5, 6.0)
    )


def test_a_word_is_never_given_to_a_clip_without_speech() -> None:
    samples = np.ones(3 * RATE, np.float32)
    spoken = collapse(samples, [Region(0, 3 * RATE)], RATE)
    silent = collapse(np.zeros(RATE, np.float32), [], RATE)
    joint = join_speech([spoken, silent, spoken], 30.0, ["a", "a", "a"])
    end_of_first_s = 2.9  # within half a gap of where the silent clip was placed
    assert joint.clip_at(end_of_first_s) == 0
    assert joint.times_of(0).to_original(2.8, end_of_first_s) == (2.8, 2.9)
    assert joint.clip_at(joint.starts[2] / RATE + 0.1) == 2


def test_joint_slices_are_the_clips_speech_end_to_end_with_gaps() -> None:
    samples = np.arange(1, 10 * RATE + 1, dtype=np.float32)
    first = collapse(samples, [Region(0, 2 * RATE), Region(4 * RATE, 5 * RATE)], RATE)
    silent = collapse(samples, [], RATE)
    second = collapse(samples, [Region(7 * RATE, 9 * RATE)], RATE)
    joint = join_speech([first, silent, second], 30.0)
    gap = np.zeros(int(CLIP_GAP_S * RATE), np.float32)
    whole = np.concatenate([first.samples, gap, second.samples])
    assert joint.length == len(whole)
    for start, end in [(0, joint.length), (150, 390), (280, 460), (0, 1), (459, 10_000)]:
        assert np.array_equal(joint.slice(start, end), whole[start:end]), (start, end)
