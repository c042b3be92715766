"""Batched decoding's pure parts: windows cut from speech regions, sentence segments."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import closing

import numpy as np
import pytest

from dsac_asr.engines.background import in_background
from dsac_asr.engines.base import RecognizedSegment, RecognizedWord
from dsac_asr.engines.regions import GAP_S, Region, collapse, pack, split_at_pauses, split_long
from dsac_asr.engines.segment_filters import split_sentences
from dsac_asr.engines.whisper import WhisperOptions

RATE = 1000


def test_a_long_region_is_cut_into_pieces_that_fit() -> None:
    pieces = split_long([Region(0, 70), Region(100, 110)], 30)
    assert pieces == [Region(0, 30), Region(30, 60), Region(60, 70), Region(100, 110)]


def test_neighbours_are_packed_while_their_span_fits() -> None:
    regions = [Region(0, 10), Region(12, 25), Region(27, 40), Region(41, 45)]
    assert pack(regions, 30) == [Region(0, 25), Region(27, 45)]


def test_packing_keeps_every_sample_of_every_region() -> None:
    regions = [Region(0, 5), Region(6, 80), Region(81, 90)]
    spans = pack(regions, 30)
    assert all(span.end - span.start <= 30 for span in spans)
    covered = {i for span in spans for i in range(span.start, span.end)}
    assert all(i in covered for r in regions for i in range(r.start, r.end))
    assert [s.start for s in spans] == sorted(s.start for s in spans)


def test_no_regions_pack_to_no_spans() -> None:
    assert pack([], 30) == []


def test_collapsed_spans_hold_whole_regions_in_collapsed_samples() -> None:
    samples = np.zeros(100 * RATE, np.float32)
    regions = [Region(0, 10 * RATE), Region(20 * RATE, 35 * RATE), Region(50 * RATE, 90 * RATE)]
    collapsed = collapse(samples, regions, RATE)
    spans = collapsed.spans(30.0)
    gap = int(GAP_S * RATE)
    assert spans[0] == Region(0, 25 * RATE + gap)
    assert all(span.end - span.start <= 30 * RATE for span in spans)
    assert spans[-1].end == len(collapsed.samples)


def _segment(text: str) -> RecognizedSegment:
    words = tuple(
        RecognizedWord(w, i * 0.3, i * 0.3 + 0.2, 0.9) for i, w in enumerate(text.split())
    )
    return RecognizedSegment(text, words, "eng")


def test_a_window_is_split_into_its_sentences() -> None:
    pieces = split_sentences(_segment("The cat sat. Did it? Yes! And then"))
    assert [p.text for p in pieces] == ["The cat sat.", "Did it?", "Yes!", "And then"]
    assert [w.start_s for p in pieces for w in p.words] == [i * 0.3 for i in range(8)]
    assert {p.language for p in pieces} == {"eng"}


def test_one_sentence_stays_as_it_was() -> None:
    segment = _segment("Just one sentence here.")
    assert split_sentences(segment) == [segment]


def test_batch_size_zero_or_one_means_sequential() -> None:
    assert not WhisperOptions(batch_size=0).batched
    assert not WhisperOptions(batch_size=1).batched
    assert WhisperOptions(batch_size=4).batched


def _slow(values: list[int], pause_s: float) -> Iterator[int]:
    for value in values:
        time.sleep(pause_s)
        yield value


def test_background_items_arrive_in_order_with_idle_ticks_between() -> None:
    got = list(in_background(_slow([1, 2], 0.25), idle_s=0.1))
    assert [item for item in got if item is not None] == [1, 2]
    assert got.count(None) >= 2


def test_a_background_error_is_raised_to_the_consumer() -> None:
    def failing() -> Iterator[int]:
        yield 1
        raise RuntimeError("decoder broke")

    with pytest.raises(RuntimeError, match="decoder broke"):
        list(in_background(failing(), idle_s=0.1))


def test_closing_stops_the_background_worker() -> None:
    made: list[int] = []

    def endless() -> Iterator[int]:
        for value in itertools.count():
            made.append(value)
            time.sleep(0.01)
            yield value

    with closing(in_background(endless(), idle_s=0.1)) as produced:
        assert next(produced) == 0
    count = len(made)
    time.sleep(0.1)
    assert len(made) == count <= 3
    assert not [t for t in threading.enumerate() if t.name == "whisper-decode"]


def test_a_long_region_is_cut_in_its_longest_pause() -> None:
    samples = np.random.default_rng(0).normal(0, 0.1, 40 * RATE).astype(np.float32)
    samples[17 * RATE : 17 * RATE + 100] = 0.0  # a pause between words
    samples[22 * RATE : 23 * RATE] = 0.0  # a pause between sentences
    pieces = split_at_pauses(samples, [Region(0, 40 * RATE)], 30 * RATE, int(0.4 * RATE))
    assert len(pieces) == 2
    assert 22 * RATE < pieces[0].end < 23 * RATE
    assert pieces[1] == Region(pieces[0].end, 40 * RATE)


def test_regions_that_fit_are_not_cut() -> None:
    samples = np.ones(100 * RATE, np.float32)
    regions = [Region(0, 30 * RATE), Region(40 * RATE, 50 * RATE)]
    assert split_at_pauses(samples, regions, 30 * RATE, 400) == regions


def test_a_region_without_pauses_is_still_cut_to_fit() -> None:
    samples = np.ones(100 * RATE, np.float32)
    pieces = split_at_pauses(samples, [Region(0, 100 * RATE)], 30 * RATE, 400)
    assert all(p.end - p.start <= 30 * RATE for p in pieces)
    assert pieces[0].start == 0 and pieces[-1].end == 100 * RATE
    assert all(a.end == b.start for a, b in itertools.pairwise(pieces))
