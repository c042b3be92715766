"""Plain words: lower case without punctuation (the seed's ``SAC=no``)."""

from __future__ import annotations

import re
from dataclasses import replace

from dsac_asr.transcript.model import Segment, Transcript, Word

# Punctuation at either end of a word; inner apostrophes and hyphens stay (don't, co-op).
_EDGE_PUNCTUATION = re.compile(r"^[^\w]+|[^\w]+$", re.UNICODE)


def plain_word(text: str) -> str:
    """``text`` lower-cased, without leading or trailing punctuation."""
    return _EDGE_PUNCTUATION.sub("", text).lower()


def without_punctuation(transcript: Transcript) -> Transcript:
    """The transcript with lower-case words and no punctuation; words that were only
    punctuation are dropped, timings are kept."""
    segments = tuple(_plain_segment(segment) for segment in transcript.segments)
    return replace(transcript, segments=tuple(s for s in segments if s.words))


def _plain_segment(segment: Segment) -> Segment:
    words: tuple[Word, ...] = tuple(
        replace(word, text=plain_word(word.text)) for word in segment.words if plain_word(word.text)
    )
    return replace(segment, words=words, text=" ".join(word.text for word in words))
