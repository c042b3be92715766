"""Sentence boundaries and commas from pauses, for engines that write no punctuation.

A speaker's words are cut into sentences at pauses (see ``SentenceRules``);
for English, which words stand around a pause decides between a sentence end
and a comma. English sentences that open like a question ("do you ...",
"where is ...") end with a question mark, the others with a full stop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dsac_asr.transcript.casing import plain_word
from dsac_asr.transcript.model import Word

_AUXILIARIES = frozenset(
    "is are was were am do does did can could will would should shall may might must "
    "have has had isn't aren't wasn't weren't don't doesn't didn't can't couldn't "
    "won't wouldn't shouldn't haven't hasn't".split()
)
_SUBJECTS = frozenset("i you we he she it they there this that these those the".split())
_QUESTION_WORDS = frozenset("what where when why who whom whose which how".split())
_HOW_MUCH = frozenset("many much long far often old".split())
_INTRODUCTORY = frozenset(
    "if when after before although though because while since unless once as yes no well "
    "so however also but".split()
)
_NOT_FINAL = frozenset(
    "the a an and or but of to in on at for with from by my our your their his her its "
    "that which whose than as if because while about into over under i we you they he she "
    "very".split()
)


@dataclass(frozen=True)
class SentenceRules:
    """Where sentences end.

    A pause of ``long_pause_s`` or more always ends a sentence. A pause of
    ``short_pause_s`` or more ends one that has ``min_words`` words or more,
    unless (English) the word before it cannot end a sentence ("the", "of":
    no mark then) or the sentence opened with an introductory word ("if",
    "when", "yes") and has no comma yet (a comma then); a shorter sentence
    gets a comma there too. A sentence longer than ``max_words`` is cut at its
    longest pause.
    """

    # flite's pauses between sentences measured 0.15-0.46 s and its commas 0.2-0.46 s
    # (bench/punctuation.py); people pause longer, so this errs towards sentence ends.
    short_pause_s: float = 0.15
    long_pause_s: float = 0.6
    min_words: int = 3
    max_words: int = 30


@dataclass(frozen=True)
class Sentence:
    """The index range of a sentence's words and the indices of words a comma follows."""

    span: range
    commas: frozenset[int] = frozenset()


def split_sentences(words: Sequence[Word], rules: SentenceRules, english: bool) -> list[Sentence]:
    """The sentences of ``words`` (one speaker's, in time order), with their commas."""
    plain = [plain_word(word.text) for word in words]
    sentences: list[Sentence] = []
    start, commas = 0, set[int]()
    for index in range(1, len(words)):
        gap_s = _gap_s(words, index)
        if gap_s < rules.short_pause_s:
            continue
        if gap_s >= rules.long_pause_s or _ends(plain, start, index, commas, rules, english):
            sentences.append(Sentence(range(start, index), frozenset(commas)))
            start, commas = index, set()
        elif not english or plain[index - 1] not in _NOT_FINAL:
            commas.add(index - 1)
    if words:
        sentences.append(Sentence(range(start, len(words)), frozenset(commas)))
    return [piece for s in sentences for piece in _split_long(words, s, rules.max_words)]


def _ends(
    plain: Sequence[str],
    start: int,
    index: int,
    commas: set[int],
    rules: SentenceRules,
    english: bool,
) -> bool:
    """Whether a short pause before ``plain[index]`` ends the sentence begun at ``start``."""
    if index - start < rules.min_words:
        return False
    if not english:
        return True
    introduced = plain[start] in _INTRODUCTORY and not commas
    return plain[index - 1] not in _NOT_FINAL and not introduced


def _gap_s(words: Sequence[Word], index: int) -> float:
    """Silence between ``words[index - 1]`` and ``words[index]``."""
    return words[index].start_s - words[index - 1].end_s


def _split_long(words: Sequence[Word], sentence: Sentence, max_words: int) -> list[Sentence]:
    """``sentence`` cut at its longest pauses until no piece has more than ``max_words``."""
    span = sentence.span
    if len(span) <= max(max_words, 1):
        return [sentence]
    cut = max(span[1:], key=lambda i: _gap_s(words, i))
    pieces = (range(span.start, cut), range(cut, span.stop))
    return [
        part
        for piece in pieces
        for part in _split_long(
            words,
            Sentence(piece, frozenset(c for c in sentence.commas if c in piece[:-1])),
            max_words,
        )
    ]


def is_question(words: Sequence[str]) -> bool:
    """Whether an English sentence of lower-case ``words`` opens like a question."""
    if len(words) < 2:
        return False
    first, second = words[0].lower(), words[1].lower()
    if first in _AUXILIARIES:
        return second in _SUBJECTS
    if first == "how" and second in _HOW_MUCH:
        return True
    return first in _QUESTION_WORDS and second in _AUXILIARIES
