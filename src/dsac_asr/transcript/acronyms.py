"""Acronym joining: letters an engine recognised one by one ("a n c"), as one word (ANC).

Kaldi lexicons spell acronyms as letter words, so "ANC" comes out as three
single-letter words. A run of such letters that spells an acronym of the
spelling list becomes one word spanning its letters: it starts at the first
letter's start, ends at the last letter's end, and has the lowest confidence
of its letters.
"""

from __future__ import annotations

from collections.abc import Sequence

from dsac_asr.transcript.casing import plain_word
from dsac_asr.transcript.model import Word

MAX_LETTER_GAP_S = 0.5
"""Letters further apart than this (seconds of silence) are not one acronym."""


def join_acronyms(
    words: Sequence[Word],
    acronyms: frozenset[str],
    max_gap_s: float = MAX_LETTER_GAP_S,
) -> tuple[Word, ...]:
    """``words`` with every spelled-out acronym of ``acronyms`` joined into one word.

    Where several acronyms could start at a letter, the longest wins.
    """
    by_letters = {acronym.lower(): acronym for acronym in acronyms}
    longest = max((len(letters) for letters in by_letters), default=0)
    joined: list[Word] = []
    index = 0
    while index < len(words):
        letters = _acronym_at(words, index, by_letters, longest, max_gap_s)
        if letters is None:
            joined.append(words[index])
            index += 1
            continue
        joined.append(_joined(words[index : index + len(letters)], by_letters[letters]))
        index += len(letters)
    return tuple(joined)


def _letter(word: Word) -> str | None:
    """The word's letter when it is a single letter (``"a"``, ``"N."``), else None."""
    plain = plain_word(word.text)
    return plain if len(plain) == 1 and plain.isalpha() else None


def _acronym_at(
    words: Sequence[Word],
    start: int,
    by_letters: dict[str, str],
    longest: int,
    max_gap_s: float,
) -> str | None:
    """The longest acronym (lower-case letters) spelled from ``words[start]`` on, or None."""
    letters = ""
    found = None
    for index in range(start, min(len(words), start + longest)):
        letter = _letter(words[index])
        if letter is None or (index > start and _gap_s(words, index) > max_gap_s):
            break
        letters += letter
        if len(letters) > 1 and letters in by_letters:
            found = letters
    return found


def _gap_s(words: Sequence[Word], index: int) -> float:
    """Silence between ``words[index - 1]`` and ``words[index]``."""
    return words[index].start_s - words[index - 1].end_s


def _joined(letters: Sequence[Word], acronym: str) -> Word:
    """One word ``acronym`` spanning ``letters``."""
    first, last = letters[0], letters[-1]
    return Word(
        text=acronym,
        start_s=first.start_s,
        end_s=max(last.end_s, first.start_s),
        confidence=min(letter.confidence for letter in letters),
        speaker=first.speaker,
        language=first.language,
    )
