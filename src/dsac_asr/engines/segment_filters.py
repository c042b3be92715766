"""Cutting and filtering Whisper's segments: sentences out of a batched window,
hallucination loops dropped."""

from __future__ import annotations

from dsac_asr.engines.base import RecognizedSegment, RecognizedWord

_SENTENCE_ENDS = (".", "?", "!")


def split_sentences(segment: RecognizedSegment) -> list[RecognizedSegment]:
    """``segment`` cut after each word that ends a sentence.

    A batched window comes back as one segment of up to 30 s; cutting it into
    sentences gives segments like those of sequential decoding.
    """
    pieces: list[list[RecognizedWord]] = [[]]
    for word in segment.words:
        pieces[-1].append(word)
        if word.text.endswith(_SENTENCE_ENDS):
            pieces.append([])
    pieces = [piece for piece in pieces if piece]
    if len(pieces) <= 1:
        return [segment]
    return [
        RecognizedSegment(" ".join(w.text for w in piece), tuple(piece), segment.language)
        for piece in pieces
    ]


def is_runaway_repetition(segment: RecognizedSegment, min_words: int = 12) -> bool:
    """True for a hallucination loop: many words, few of them distinct."""
    words = [w.text.lower().strip(".,!?") for w in segment.words]
    return len(words) >= min_words and len(set(words)) / len(words) < 0.25
