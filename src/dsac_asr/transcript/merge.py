"""Channel merging and speaker labels.

A stereo call is recognised one channel at a time; each channel's segments are
labelled with that channel's speaker, then the channels are merged into one
time-ordered sequence.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Sequence
from dataclasses import replace

from dsac_asr.transcript.model import Segment

_LETTERS = string.ascii_uppercase


def speaker_label(index: int) -> str:
    """The label of the ``index``-th speaker (0-based): "A" ... "Z", "AA", "AB" ...

    Raises ``ValueError`` for a negative index.
    """
    if index < 0:
        raise ValueError(f"speaker index must be >= 0, got {index}")
    label = ""
    number = index + 1  # bijective base 26: A=1 ... Z=26, AA=27
    while number > 0:
        number, remainder = divmod(number - 1, len(_LETTERS))
        label = _LETTERS[remainder] + label
    return label


def label_speaker(segments: Iterable[Segment], speaker: str) -> tuple[Segment, ...]:
    """Copies of ``segments`` with ``speaker`` set on each segment and each of its words."""
    return tuple(
        replace(
            segment,
            speaker=speaker,
            words=tuple(replace(word, speaker=speaker) for word in segment.words),
        )
        for segment in segments
    )


def merge_channels(channels: Sequence[Sequence[Segment]]) -> tuple[Segment, ...]:
    """All channels' words in one time-ordered sequence, grouped back into segments.

    Words are interleaved by start time (ties: first channel first), so a
    segment is split where another channel speaks inside it; a piece of a split
    segment gets its words' text, an intact segment keeps its own text.
    Segments without words are dropped.
    """
    entries = [
        (word.start_s, channel_index, segment_index, word_index)
        for channel_index, channel in enumerate(channels)
        for segment_index, segment in enumerate(channel)
        for word_index, word in enumerate(segment.words)
    ]
    entries.sort()
    runs: list[tuple[int, int, list[int]]] = []
    for _start_s, channel_index, segment_index, word_index in entries:
        if runs and runs[-1][:2] == (channel_index, segment_index):
            runs[-1][2].append(word_index)
        else:
            runs.append((channel_index, segment_index, [word_index]))
    return tuple(_piece(channels[c][s], indices) for c, s, indices in runs)


def _piece(segment: Segment, word_indices: list[int]) -> Segment:
    if len(word_indices) == len(segment.words):
        return segment
    words = tuple(segment.words[i] for i in word_indices)
    return replace(segment, words=words, text=" ".join(w.text for w in words))
