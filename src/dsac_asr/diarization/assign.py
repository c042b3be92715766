"""Speakers onto recognised words: each word takes the speaker whose turn
overlaps it most, and segments are cut where the speaker changes."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import replace

from dsac_asr.diarization.windows import SpeakerTurn
from dsac_asr.transcript import Segment, Word, speaker_label


def assign_speakers(
    segments: Sequence[Segment], turns: Sequence[SpeakerTurn]
) -> tuple[Segment, ...]:
    """``segments`` with a speaker on every word, split at speaker changes, and
    labels renamed ``A``, ``B``, ... in the order the words first show them.

    A word that overlaps no turn takes the nearest one's speaker; without turns
    the segments come back unchanged.
    """
    if not turns:
        return tuple(segments)
    finder = _TurnFinder(turns)
    labelled = [
        replace(segment, words=tuple(finder.label(word) for word in segment.words))
        for segment in segments
    ]
    renamed = _renamed_in_order(labelled)
    return tuple(piece for segment in renamed for piece in split_by_speaker(segment))


def split_by_speaker(segment: Segment) -> list[Segment]:
    """``segment`` cut into runs of words of one speaker (each run's segment has that speaker)."""
    runs: list[list[Word]] = []
    for word in segment.words:
        if runs and runs[-1][-1].speaker == word.speaker:
            runs[-1].append(word)
        else:
            runs.append([word])
    if len(runs) <= 1:
        speaker = runs[0][0].speaker if runs else segment.speaker
        return [replace(segment, speaker=speaker)]
    return [
        Segment(words=tuple(run), text=" ".join(w.text for w in run), speaker=run[0].speaker)
        for run in runs
    ]


class _TurnFinder:
    """Looks up the turn that overlaps a stretch of time most."""

    def __init__(self, turns: Sequence[SpeakerTurn]) -> None:
        self.turns = sorted(turns, key=lambda turn: turn.start_s)
        self.starts = [turn.start_s for turn in self.turns]

    def label(self, word: Word) -> Word:
        """``word`` with the speaker of the turn that overlaps it most."""
        return replace(word, speaker=self.speaker(word.start_s, word.end_s))

    def speaker(self, start_s: float, end_s: float) -> str:
        """The speaker of the turn overlapping ``start_s``..``end_s`` most, else the nearest."""
        index = bisect.bisect_left(self.starts, end_s)
        nearby = self.turns[max(0, index - 4) : index + 1]
        return max(nearby, key=lambda turn: _closeness(turn, start_s, end_s)).speaker


def _closeness(turn: SpeakerTurn, start_s: float, end_s: float) -> float:
    """Overlap in seconds when positive; minus the gap between them otherwise."""
    return min(turn.end_s, end_s) - max(turn.start_s, start_s)


def _renamed_in_order(segments: Sequence[Segment]) -> list[Segment]:
    """Speaker labels renamed A, B, ... in the order of the words' first appearance."""
    names: dict[str, str] = {}
    for segment in segments:
        for word in segment.words:
            if word.speaker is not None and word.speaker not in names:
                names[word.speaker] = speaker_label(len(names))
    return [
        replace(
            segment,
            words=tuple(
                replace(w, speaker=names.get(w.speaker, w.speaker) if w.speaker else None)
                for w in segment.words
            ),
        )
        for segment in segments
    ]
