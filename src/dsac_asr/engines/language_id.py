"""Per-region language identification for the multilingual mode (``mul``).

Speakers change language between sentences more than within one, so the
audio is cut into speech regions at short pauses (``ID_PAUSE_S``). Each
region long enough to judge (``MIN_ID_S``) is identified among the candidate
languages only; a shorter one takes the language of its nearest identified
neighbour. The regions of each language are then decoded together in that
language, and the segments are cut where the language changes and put back
in time order.

Whisper hears Afrikaans as Dutch more often than as Afrikaans, so the
probability of a close relative that is not a candidate itself counts toward
the candidate (``KIN``). A language outside the candidates is never chosen.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from dsac_asr.engines.base import (
    Engine,
    ProgressCallback,
    RecognitionRequest,
    RecognizedSegment,
    RecognizedWord,
)
from dsac_asr.engines.regions import CollapsedAudio, Region, collapse, find_speech, split_at_pauses
from dsac_asr.errors import InvalidOptionError
from dsac_asr.models.languages import iso1_code

ID_PAUSE_S = 0.5
MIN_ID_S = 2.0
ID_SHARE = 0.1
DELEGATE_PIECE_S = 600.0
"""Collapsed speech handed to a delegate engine at once."""
KIN: Mapping[str, tuple[str, ...]] = {"af": ("nl",)}
_KIN_OF = {relative: code for code, relatives in KIN.items() for relative in relatives}

LanguageScores = Sequence[tuple[str, float]]
"""A model's (ISO 639-1 code, probability) for each language it knows."""
Scorer = Callable[[npt.NDArray[np.float32]], LanguageScores]
SpeechDecoder = Callable[
    [CollapsedAudio, RecognitionRequest, ProgressCallback | None], list[RecognizedSegment]
]


def identifiable(candidates: Iterable[str], supported: Iterable[str]) -> tuple[str, ...]:
    """The ``candidates`` (ISO 639-3) whose ISO 639-1 code is in ``supported``, in order."""
    known = set(supported)
    usable = tuple(code for code in candidates if iso1_code(code) in known)
    if not usable:
        raise InvalidOptionError(
            "multilingual mode needs candidate languages the model can identify"
        )
    return usable


def best_candidate(scores: LanguageScores, candidates: Sequence[str]) -> str:
    """The candidate (ISO 639-3) with the most probability in ``scores``, a
    relative's (``KIN``) included when the relative is not a candidate itself;
    the first candidate on a tie. Never a language outside ``candidates``."""
    by_iso1 = {iso1: code for code in candidates if (iso1 := iso1_code(code)) is not None}
    totals = dict.fromkeys(candidates, 0.0)
    for code, probability in scores:
        target = by_iso1.get(code) or by_iso1.get(_KIN_OF.get(code, ""))
        if target is not None:
            totals[target] += probability
    return max(candidates, key=lambda code: totals[code])


def language_regions(
    samples: npt.NDArray[np.float32], sample_rate_hz: int, window_samples: int, pause_samples: int
) -> list[Region]:
    """Speech regions split at pauses of ``ID_PAUSE_S``, each at most one window long."""
    regions = find_speech(samples, sample_rate_hz, min_silence_s=ID_PAUSE_S)
    return split_at_pauses(samples, regions, window_samples, pause_samples)


def identify_regions(
    samples: npt.NDArray[np.float32],
    regions: Sequence[Region],
    sample_rate_hz: int,
    candidates: Sequence[str],
    score: Scorer,
    on_progress: ProgressCallback | None = None,
) -> list[str]:
    """The language of each region (see the module's description)."""
    if len(candidates) == 1:
        return [candidates[0]] * len(regions)
    judged = [i for i, r in enumerate(regions) if r.end - r.start >= MIN_ID_S * sample_rate_hz]
    if not judged:
        whole = collapse(samples, list(regions), sample_rate_hz).samples
        return [best_candidate(score(whole), candidates)] * len(regions)
    found: dict[int, str] = {}
    for done, index in enumerate(judged, start=1):
        region = regions[index]
        found[index] = best_candidate(score(samples[region.start : region.end]), candidates)
        if on_progress is not None:
            on_progress(done / len(judged))
    return fill_from_neighbours(regions, found)


def fill_from_neighbours(regions: Sequence[Region], found: Mapping[int, str]) -> list[str]:
    """Each region's language: its own in ``found``, else that of the identified
    region nearest to it in time (the earlier one on a tie)."""
    judged = sorted(found)
    languages: list[str] = []
    for index, region in enumerate(regions):
        if index in found:
            languages.append(found[index])
            continue
        after = bisect.bisect_right(judged, index)
        near = [judged[i] for i in (after - 1, after) if 0 <= i < len(judged)]
        nearest = min(near, key=lambda j: (_gap(regions[j], region), j))
        languages.append(found[nearest])
    return languages


def _gap(one: Region, other: Region) -> int:
    return max(one.start - other.end, other.start - one.end, 0)


def switch_times(
    regions: Sequence[Region], languages: Sequence[str], sample_rate_hz: int
) -> list[float]:
    """Times (s) midway between neighbouring regions of different languages."""
    return [
        (regions[i - 1].end + regions[i].start) / 2 / sample_rate_hz
        for i in range(1, len(regions))
        if languages[i] != languages[i - 1]
    ]


def cut_at(segment: RecognizedSegment, times: Sequence[float]) -> list[RecognizedSegment]:
    """``segment`` cut between two words wherever one of ``times`` falls between their middles."""
    pieces: list[list[RecognizedWord]] = [[]]
    for word in segment.words:
        if pieces[-1] and _crosses(pieces[-1][-1], word, times):
            pieces.append([])
        pieces[-1].append(word)
    if len(pieces) <= 1:
        return [segment]
    return [
        RecognizedSegment(" ".join(w.text for w in piece), tuple(piece), segment.language)
        for piece in pieces
    ]


def _crosses(before: RecognizedWord, after: RecognizedWord, times: Sequence[float]) -> bool:
    low, high = _middle(before), _middle(after)
    return bisect.bisect_left(times, high) > bisect.bisect_right(times, low)


def _middle(word: RecognizedWord) -> float:
    return (word.start_s + word.end_s) / 2


def in_time_order(
    segments: Iterable[RecognizedSegment], times: Sequence[float]
) -> list[RecognizedSegment]:
    """``segments`` of several languages cut at ``times`` and sorted by their first word."""
    pieces = [piece for segment in segments for piece in cut_at(segment, times)]
    return sorted(pieces, key=lambda piece: piece.words[0].start_s if piece.words else 0.0)


def recognize_by_region(
    samples: npt.NDArray[np.float32],
    regions: Sequence[Region],
    sample_rate_hz: int,
    request: RecognitionRequest,
    score: Scorer,
    decode: SpeechDecoder,
    on_progress: ProgressCallback | None = None,
) -> list[RecognizedSegment]:
    """Identify each region's language among ``request.candidate_languages``, then
    ``decode`` the regions of each language together in that language."""
    if not regions:
        return []
    report = on_progress or (lambda _fraction: None)
    languages = identify_regions(
        samples,
        regions,
        sample_rate_hz,
        request.candidate_languages,
        score,
        lambda fraction: report(fraction * ID_SHARE),
    )
    segments = _decode_by_language(
        samples, regions, languages, sample_rate_hz, request, decode, report
    )
    return in_time_order(segments, switch_times(regions, languages, sample_rate_hz))


def _decode_by_language(
    samples: npt.NDArray[np.float32],
    regions: Sequence[Region],
    languages: Sequence[str],
    sample_rate_hz: int,
    request: RecognitionRequest,
    decode: SpeechDecoder,
    report: ProgressCallback,
) -> list[RecognizedSegment]:
    """The regions of each language decoded together, in order of first appearance,
    each language's progress shown on its share (by speech length) after ``ID_SHARE``."""
    total = sum(r.end - r.start for r in regions)
    segments: list[RecognizedSegment] = []
    done = 0
    for code in dict.fromkeys(languages):
        group = [r for r, c in zip(regions, languages, strict=True) if c == code]
        size = sum(r.end - r.start for r in group)
        start, width = done / total, size / total
        share = _share(report, ID_SHARE + (1 - ID_SHARE) * start, (1 - ID_SHARE) * width)
        fixed = replace(request, language=code, candidate_languages=())
        segments.extend(decode(collapse(samples, group, sample_rate_hz), fixed, share))
        done += size
    return segments


def delegating(decode: SpeechDecoder, request: RecognitionRequest) -> SpeechDecoder:
    """``decode``, except that a language with a delegate in ``request`` is decoded by that
    engine (its word times mapped back through the collapsed speech)."""
    delegates = dict(request.delegates)

    def choose(
        speech: CollapsedAudio, fixed: RecognitionRequest, report: ProgressCallback | None
    ) -> list[RecognizedSegment]:
        other = delegates.get(fixed.language)
        if other is None:
            return decode(speech, fixed, report)
        return _delegated(other, speech, replace(fixed, delegates=()), report)

    return choose


def _delegated(
    engine: Engine,
    speech: CollapsedAudio,
    request: RecognitionRequest,
    report: ProgressCallback | None,
) -> list[RecognizedSegment]:
    """``engine``'s segments for the collapsed speech, given to it ``DELEGATE_PIECE_S``
    (whole regions) at a time, so a long recording's speech is never copied whole."""
    pieces = speech.spans(DELEGATE_PIECE_S)
    total = max(1, sum(piece.end - piece.start for piece in pieces))
    segments: list[RecognizedSegment] = []
    done = 0
    for piece in pieces:
        share = _share(report, done / total, (piece.end - piece.start) / total) if report else None
        found = engine.recognize(speech.slice(piece.start, piece.end), request, share)
        offset_s = piece.start / speech.sample_rate_hz
        segments += [_mapped(s, speech, request.language, offset_s) for s in found]
        done += piece.end - piece.start
    return segments


def _mapped(
    segment: RecognizedSegment, speech: CollapsedAudio, language: str, offset_s: float
) -> RecognizedSegment:
    """A delegate's segment (times ``offset_s`` into the collapsed speech) with its word
    times in the original audio."""
    words = []
    for word in segment.words:
        start_s, end_s = speech.to_original(word.start_s + offset_s, word.end_s + offset_s)
        words.append(replace(word, start_s=round(start_s, 3), end_s=round(end_s, 3)))
    return RecognizedSegment(segment.text, tuple(words), language)


def _share(report: ProgressCallback, start: float, width: float) -> ProgressCallback:
    """Map a step's 0..1 progress onto ``start`` .. ``start + width`` of the whole."""
    return lambda fraction: report(start + width * fraction)
