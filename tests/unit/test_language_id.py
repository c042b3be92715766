"""Multilingual (``mul``) identification's pure parts, with made-up Whisper scores."""

from __future__ import annotations

import random

import numpy as np
import numpy.typing as npt
import pytest

from dsac_asr.engines import language_id
from dsac_asr.engines.base import (
    ProgressCallback,
    RecognitionRequest,
    RecognizedSegment,
    RecognizedWord,
)
from dsac_asr.engines.language_id import (
    ID_SHARE,
    MIN_ID_S,
    LanguageScores,
    best_candidate,
    cut_at,
    delegating,
    fill_from_neighbours,
    identifiable,
    identify_regions,
    in_time_order,
    recognize_by_region,
    switch_times,
)
from dsac_asr.engines.regions import CollapsedAudio, Region
from dsac_asr.errors import InvalidOptionError
from dsac_asr.pipeline import multilingual_candidates

RATE = 1000
WHISPER_CODES = ("en", "de", "nl", "af", "fr", "nn", "la", "cy", "zh", "sn", "sw", "cs", "th")
SA = ("eng", "afr")


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([("en", 0.9), ("af", 0.05), ("nl", 0.01)], "eng"),
        ([("af", 0.6), ("en", 0.3)], "afr"),
        # Afrikaans heard as Dutch: Dutch counts toward Afrikaans.
        ([("nl", 0.55), ("en", 0.3), ("af", 0.05)], "afr"),
        # German on top: neither candidate, so the more probable candidate wins.
        ([("de", 0.7), ("en", 0.2), ("af", 0.02)], "eng"),
        ([("de", 0.7), ("af", 0.2), ("en", 0.05)], "afr"),
        # Nothing for either candidate: the first one.
        ([("de", 0.9), ("fr", 0.1)], "eng"),
    ],
)
def test_the_best_candidate_is_chosen_among_the_set(scores: LanguageScores, expected: str) -> None:
    assert best_candidate(scores, SA) == expected


def test_dutch_counts_only_for_a_set_without_dutch() -> None:
    scores = [("nl", 0.5), ("en", 0.3), ("af", 0.1)]
    assert best_candidate(scores, ("eng", "afr", "nld")) == "nld"
    assert best_candidate(scores, ("eng", "afr")) == "afr"


@pytest.mark.parametrize("candidates", [("eng",), ("afr",), SA, ("afr", "eng"), ("eng", "zul")])
def test_never_a_language_outside_the_set(candidates: tuple[str, ...]) -> None:
    chooser = random.Random(6)
    for _ in range(500):
        codes = chooser.sample(WHISPER_CODES, chooser.randint(0, len(WHISPER_CODES)))
        weights = [chooser.random() ** 4 for _ in codes]
        total = sum(weights) or 1.0
        scores = sorted(zip(codes, (w / total for w in weights), strict=True), key=lambda s: -s[1])
        assert best_candidate(scores, candidates) in candidates


def test_only_candidates_the_model_knows_are_usable() -> None:
    assert identifiable(("eng", "zul", "afr"), ("en", "af", "nl")) == ("eng", "afr")
    with pytest.raises(InvalidOptionError):
        identifiable(("zul", "xho"), ("en", "af"))
    with pytest.raises(InvalidOptionError):
        identifiable((), ("en", "af"))


def test_multilingual_candidates_are_the_models_south_african_languages() -> None:
    assert multilingual_candidates(["eng", "afr", "deu"]) == ("eng", "afr")
    assert multilingual_candidates(["nld", "deu"]) == ()
    everything = multilingual_candidates(["mul"])
    assert {"eng", "afr", "zul", "sot"} <= set(everything) and "nld" not in everything


# A made-up world: each region's samples hold one value that says what it is.
DUTCHY, GERMANY, ENGLISH = 0.5, 0.25, 0.75
SCORES: dict[float, LanguageScores] = {
    DUTCHY: [("nl", 0.6), ("en", 0.25), ("de", 0.1), ("af", 0.02)],
    GERMANY: [("de", 0.8), ("en", 0.15), ("af", 0.01)],
    ENGLISH: [("en", 0.7), ("nn", 0.2), ("af", 0.01)],
}


def _audio(parts: list[tuple[float, float, float]]) -> tuple[npt.NDArray[np.float32], list[Region]]:
    """Silence with a region of ``value`` from ``start_s`` to ``end_s`` for each part."""
    samples = np.zeros(int(max(end for _v, _s, end in parts) * RATE) + RATE, np.float32)
    regions = []
    for value, start_s, end_s in parts:
        region = Region(int(start_s * RATE), int(end_s * RATE))
        samples[region.start : region.end] = value
        regions.append(region)
    return samples, regions


class FakeScorer:
    """Scores a clip by its value, remembering every clip it was given."""

    def __init__(self) -> None:
        self.clips: list[npt.NDArray[np.float32]] = []

    def __call__(self, clip: npt.NDArray[np.float32]) -> LanguageScores:
        self.clips.append(clip)
        return SCORES[float(np.max(clip))]


def test_long_regions_are_identified_and_short_ones_take_the_nearest() -> None:
    samples, regions = _audio(
        [
            (ENGLISH, 0, 3),
            (DUTCHY, 3.5, 3.9),
            (DUTCHY, 6, 9),
            (ENGLISH, 10, 10.5),
            (GERMANY, 20, 24),
        ]
    )
    scorer = FakeScorer()
    languages = identify_regions(samples, regions, RATE, SA, scorer)
    assert languages == ["eng", "eng", "afr", "afr", "eng"]
    assert len(scorer.clips) == 3
    assert all(len(clip) >= MIN_ID_S * RATE for clip in scorer.clips)


def test_one_candidate_needs_no_identification() -> None:
    samples, regions = _audio([(DUTCHY, 0, 3), (ENGLISH, 4, 8)])
    scorer = FakeScorer()
    assert identify_regions(samples, regions, RATE, ("afr",), scorer) == ["afr", "afr"]
    assert scorer.clips == []


def test_only_short_regions_are_identified_together() -> None:
    samples, regions = _audio([(DUTCHY, 0, 1), (DUTCHY, 2, 3), (DUTCHY, 5, 6)])
    scorer = FakeScorer()
    assert identify_regions(samples, regions, RATE, SA, scorer) == ["afr"] * 3
    assert len(scorer.clips) == 1 and len(scorer.clips[0]) > 3 * RATE


def test_nearest_neighbour_is_by_time_gap_not_by_index() -> None:
    regions = [Region(0, 10), Region(90, 95), Region(100, 200)]
    assert fill_from_neighbours(regions, {0: "eng", 2: "afr"}) == ["eng", "afr", "afr"]
    regions = [Region(0, 10), Region(12, 15), Region(100, 200)]
    assert fill_from_neighbours(regions, {0: "eng", 2: "afr"}) == ["eng", "eng", "afr"]


def _words(*spans: tuple[str, float, float]) -> tuple[RecognizedWord, ...]:
    return tuple(RecognizedWord(text, start, end, 0.9) for text, start, end in spans)


def test_a_segment_is_cut_where_the_language_changes() -> None:
    segment = RecognizedSegment(
        "one two three four",
        _words(("one", 0, 1), ("two", 1, 2), ("three", 8, 9), ("four", 9, 10)),
        "eng",
    )
    pieces = cut_at(segment, [5.0])
    assert [p.text for p in pieces] == ["one two", "three four"]
    assert {p.language for p in pieces} == {"eng"}
    assert cut_at(segment, [20.0]) == [segment]


def test_segments_of_two_languages_come_back_in_time_order() -> None:
    regions = [Region(0, 2), Region(3, 5), Region(6, 8)]
    times = switch_times(regions, ["eng", "afr", "eng"], 1)
    assert times == [2.5, 5.5]
    english = RecognizedSegment("a b", _words(("a", 0, 1), ("b", 6, 7)), "eng")
    afrikaans = RecognizedSegment("c", _words(("c", 3, 4)), "afr")
    ordered = in_time_order([english, afrikaans], times)
    assert [(p.text, p.language) for p in ordered] == [("a", "eng"), ("c", "afr"), ("b", "eng")]


class FakeDecoder:
    """Gives one segment per region of the collapsed audio it is asked to decode."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, set[float]]] = []

    def __call__(
        self,
        speech: CollapsedAudio,
        request: RecognitionRequest,
        on_progress: ProgressCallback | None,
    ) -> list[RecognizedSegment]:
        self.calls.append((request.language, set(np.unique(speech.samples)) - {0.0}))
        if on_progress is not None:
            on_progress(0.5)
            on_progress(1.0)
        return [
            RecognizedSegment(
                "word", _words(("word", r.start / RATE, r.end / RATE)), request.language
            )
            for r in speech.regions
        ]


def test_each_language_is_decoded_once_and_words_come_back_in_order() -> None:
    samples, regions = _audio(
        [(ENGLISH, 0, 3), (DUTCHY, 4, 7), (ENGLISH, 8, 11), (GERMANY, 12, 15), (DUTCHY, 16, 19)]
    )
    decoder = FakeDecoder()
    progress: list[float] = []
    request = RecognitionRequest("mul", candidate_languages=SA)
    segments = recognize_by_region(
        samples, regions, RATE, request, FakeScorer(), decoder, progress.append
    )
    assert sorted(decoder.calls, key=lambda c: c[0]) == [
        ("afr", {DUTCHY}),
        ("eng", {ENGLISH, GERMANY}),
    ]
    assert [s.language for s in segments] == ["eng", "afr", "eng", "eng", "afr"]
    assert [s.words[0].start_s for s in segments] == [0, 4, 8, 12, 16]
    assert progress == sorted(progress) and progress[-1] == pytest.approx(1.0)
    assert max(p for p in progress if p <= ID_SHARE + 1e-9) == pytest.approx(ID_SHARE)


def test_no_speech_needs_neither_identification_nor_decoding() -> None:
    scorer, decoder = FakeScorer(), FakeDecoder()
    request = RecognitionRequest("mul", candidate_languages=SA)
    samples = np.zeros(5 * RATE, np.float32)
    assert recognize_by_region(samples, [], RATE, request, scorer, decoder) == []
    assert scorer.clips == [] and decoder.calls == []


class FakeEngine:
    """An engine that finds one word at 1.0-1.5 s of whatever audio it is given."""

    sample_rate_hz = RATE

    def __init__(self) -> None:
        self.calls: list[tuple[str, float]] = []

    def recognize(
        self,
        samples: npt.NDArray[np.float32],
        request: RecognitionRequest,
        on_progress: ProgressCallback | None = None,
    ) -> list[RecognizedSegment]:
        self.calls.append((request.language, len(samples) / RATE))
        return [RecognizedSegment("woord", _words(("woord", 1.0, 1.5)), None)]


def test_a_delegate_decodes_its_language_with_times_in_the_original_audio() -> None:
    samples, regions = _audio([(ENGLISH, 0, 3), (DUTCHY, 10, 13), (ENGLISH, 20, 23)])
    decoder, afrikaans = FakeDecoder(), FakeEngine()
    request = RecognitionRequest("mul", candidate_languages=SA, delegates=(("afr", afrikaans),))
    segments = recognize_by_region(
        samples, regions, RATE, request, FakeScorer(), delegating(decoder, request)
    )
    assert [c[0] for c in decoder.calls] == ["eng"]
    assert afrikaans.calls == [("afr", pytest.approx(3.0, abs=0.01))]
    afr = [s for s in segments if s.language == "afr"]
    assert [(w.text, w.start_s, w.end_s) for s in afr for w in s.words] == [("woord", 11.0, 11.5)]
    assert [s.language for s in segments] == ["eng", "afr", "eng"]


class ReportingEngine(FakeEngine):
    """``FakeEngine`` that reports each call done."""

    def recognize(
        self,
        samples: npt.NDArray[np.float32],
        request: RecognitionRequest,
        on_progress: ProgressCallback | None = None,
    ) -> list[RecognizedSegment]:
        if on_progress is not None:
            on_progress(1.0)
        return super().recognize(samples, request, on_progress)


def test_a_delegate_is_given_long_speech_a_piece_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(language_id, "DELEGATE_PIECE_S", 5.0)
    samples, regions = _audio([(DUTCHY, 0, 3), (DUTCHY, 10, 13), (DUTCHY, 20, 23)])
    decoder, afrikaans = FakeDecoder(), ReportingEngine()
    request = RecognitionRequest("mul", candidate_languages=SA, delegates=(("afr", afrikaans),))
    progress: list[float] = []
    segments = recognize_by_region(
        samples, regions, RATE, request, FakeScorer(), delegating(decoder, request), progress.append
    )
    assert decoder.calls == []
    assert afrikaans.calls == [("afr", pytest.approx(3.0, abs=0.01))] * 3
    assert [w.start_s for s in segments for w in s.words] == [1.0, 11.0, 21.0]
    assert progress == sorted(progress) and progress[-1] == pytest.approx(1.0)
