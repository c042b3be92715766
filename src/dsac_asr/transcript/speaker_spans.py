"""The speaker turns a transcript keeps (for RTTM): diarisation's turns named like
the words, or, for channels recognised separately, each channel's speech.

Diarisation labels its turns in its own way, and the words are then renamed
``A``, ``B``, ... in the order they first show each speaker; the turns kept
must use the words' names. Channels recognised separately are not diarised:
their turns are each channel's recognised words joined across short pauses,
so speech in which no word was recognised is not in them.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace

from dsac_asr.transcript.merge import speaker_label
from dsac_asr.transcript.model import Segment, SpeakerSpan, Word

CHANNEL_TURN_GAP_S = 0.5
"""A channel's words further apart than this start a new turn."""


def named_like_words(
    turns: Sequence[SpeakerSpan], segments: Sequence[Segment]
) -> tuple[SpeakerSpan, ...]:
    """``turns`` in time order, each label renamed to the speaker most of the words
    inside its turns were given; a label no word took gets the next free name."""
    names = _names_by_votes(turns, _words(segments))
    ordered = sorted(turns, key=lambda t: (t.start_s, t.end_s))
    for turn in ordered:
        if turn.speaker not in names:
            names[turn.speaker] = _free_label(set(names.values()))
    return tuple(replace(turn, speaker=names[turn.speaker]) for turn in ordered)


def channel_turns(
    segments: Sequence[Segment], max_gap_s: float = CHANNEL_TURN_GAP_S
) -> tuple[SpeakerSpan, ...]:
    """Each speaker's words joined into turns across pauses up to ``max_gap_s``, in time order."""
    by_speaker: dict[str, list[Word]] = {}
    for word in _words(segments):
        if word.speaker is not None:
            by_speaker.setdefault(word.speaker, []).append(word)
    spans = [
        span
        for speaker, words in by_speaker.items()
        for span in _joined(sorted(words, key=_start), speaker, max_gap_s)
    ]
    return tuple(sorted(spans, key=lambda t: (t.start_s, t.end_s, t.speaker)))


def _words(segments: Iterable[Segment]) -> list[Word]:
    return [word for segment in segments for word in segment.words]


def _start(word: Word) -> float:
    return word.start_s


def _joined(words: Sequence[Word], speaker: str, max_gap_s: float) -> list[SpeakerSpan]:
    spans: list[SpeakerSpan] = []
    for word in words:
        if spans and word.start_s - spans[-1].end_s <= max_gap_s:
            spans[-1] = replace(spans[-1], end_s=max(spans[-1].end_s, word.end_s))
        else:
            spans.append(SpeakerSpan(word.start_s, word.end_s, speaker))
    return spans


def _names_by_votes(turns: Sequence[SpeakerSpan], words: Sequence[Word]) -> dict[str, str]:
    """Each turn label's name: the words' speaker it shares most words with (each
    word votes for the turns its middle lies in), one label per name."""
    labelled = sorted(
        ((w.start_s + w.end_s) / 2, w.speaker) for w in words if w.speaker is not None
    )
    middles = [middle for middle, _ in labelled]
    votes: Counter[tuple[str, str]] = Counter()
    for turn in turns:
        low = bisect.bisect_left(middles, turn.start_s)
        high = bisect.bisect_right(middles, turn.end_s)
        votes.update((turn.speaker, speaker) for _, speaker in labelled[low:high])
    names: dict[str, str] = {}
    for (label, speaker), _count in votes.most_common():
        if label not in names and speaker not in names.values():
            names[label] = speaker
    return names


def _free_label(taken: set[str]) -> str:
    index = 0
    while speaker_label(index) in taken:
        index += 1
    return speaker_label(index)
