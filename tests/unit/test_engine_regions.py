from __future__ import annotations

import numpy as np
import pytest

from dsac_asr.engines.base import RecognizedSegment, RecognizedWord
from dsac_asr.engines.regions import GAP_S, Region, collapse
from dsac_asr.engines.segment_filters import is_runaway_repetition

RATE = 1000


def _speech() -> tuple[np.ndarray, list[Region]]:
    samples = np.arange(20 * RATE, dtype=np.float32)
    return samples, [Region(1 * RATE, 3 * RATE), Region(10 * RATE, 12 * RATE)]


def test_collapse_joins_regions_with_a_gap() -> None:
    samples, regions = _speech()
    collapsed = collapse(samples, regions, RATE)
    gap = int(GAP_S * RATE)
    assert len(collapsed.samples) == 2 * RATE + gap + 2 * RATE
    assert collapsed.offsets == (0, 2 * RATE + gap)
    assert collapsed.samples[0] == 1 * RATE
    assert collapsed.samples[collapsed.offsets[1]] == 10 * RATE
    assert np.all(collapsed.samples[2 * RATE : 2 * RATE + gap] == 0)


def test_times_map_back_to_their_region() -> None:
    collapsed = collapse(*_speech(), RATE)
    assert collapsed.to_original(0.5, 0.8) == pytest.approx((1.5, 1.8))
    second = collapsed.offsets[1] / RATE
    assert collapsed.to_original(second + 0.2, second + 0.5) == pytest.approx((10.2, 10.5))


def test_a_word_placed_in_the_gap_goes_to_the_nearer_region() -> None:
    collapsed = collapse(*_speech(), RATE)
    gap_start = 2.0
    # Mostly just before the next region: belongs to it, clamped to its start.
    start, end = collapsed.to_original(gap_start + 0.2, gap_start + 0.35)
    assert start == pytest.approx(10.0)
    assert 10.0 <= end <= 10.1
    # Just after the first region: stays there, clamped to its end.
    assert collapsed.to_original(1.95, gap_start + 0.05) == pytest.approx((2.95, 3.0))


def test_no_regions_collapse_to_nothing() -> None:
    collapsed = collapse(np.zeros(RATE, np.float32), [], RATE)
    assert len(collapsed.samples) == 0


def _segment(words: list[str]) -> RecognizedSegment:
    timed = tuple(RecognizedWord(w, i * 0.2, i * 0.2 + 0.2, 0.5) for i, w in enumerate(words))
    return RecognizedSegment(" ".join(words), timed)


def test_runaway_repetition_is_detected() -> None:
    assert is_runaway_repetition(_segment(["thank", "you."] * 10))
    assert not is_runaway_repetition(
        _segment("the cat sat on the mat and then it slept in the warm sun".split())
    )
    assert not is_runaway_repetition(_segment(["no", "no", "no"]))
