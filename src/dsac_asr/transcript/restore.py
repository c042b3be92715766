"""Punctuation and casing restored for engines that write neither (Kaldi).

Each speaker's words, in time order, are cut into sentences at pauses
(``sentences``); spelled-out acronyms are joined first (``acronyms``). Each
sentence is cased by a casing model (``truecasing``), then by the spelling
list, gets a capital first letter and ends with a full stop or question mark.
Segments keep their words and timings; only word texts (and so segment texts)
change, apart from joined acronyms, which span their letters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from dsac_asr.transcript.acronyms import join_acronyms
from dsac_asr.transcript.casing import plain_word
from dsac_asr.transcript.model import Segment, Transcript, Word
from dsac_asr.transcript.sentences import SentenceRules, is_question, split_sentences
from dsac_asr.transcript.spellings import Spellings
from dsac_asr.transcript.truecasing import Caser, with_titles

Position = tuple[int, int]
"""A word's place in a transcript: (segment index, word index)."""


def restore_punctuation(
    transcript: Transcript,
    spellings: Spellings,
    caser: Caser,
    rules: SentenceRules | None = None,
) -> Transcript:
    """``transcript`` (lower-case words without punctuation) with acronyms joined,
    sentences cased and punctuated, and word timings kept."""
    acronyms = spellings.acronyms
    segments = tuple(
        replace(s, words=join_acronyms(s.words, acronyms)) for s in transcript.segments
    )
    english = transcript.language == "eng"
    texts: dict[Position, str] = {}
    for positions in _speaker_streams(segments):
        words = [segments[s].words[w] for s, w in positions]
        sentences = _punctuated(words, spellings, caser, rules or SentenceRules(), english)
        texts.update(zip(positions, sentences, strict=True))
    metadata = {**transcript.metadata, "punctuation": f"restored (pauses, {caser.name} casing)"}
    rewritten = tuple(_rewritten(i, segment, texts) for i, segment in enumerate(segments))
    return replace(transcript, segments=rewritten, metadata=metadata)


def _speaker_streams(segments: Sequence[Segment]) -> list[list[Position]]:
    """Each speaker's word positions in time order (words without a speaker: one stream)."""
    streams: dict[str | None, list[tuple[float, Position]]] = {}
    for s, segment in enumerate(segments):
        for w, word in enumerate(segment.words):
            speaker = word.speaker if word.speaker is not None else segment.speaker
            streams.setdefault(speaker, []).append((word.start_s, (s, w)))
    return [[position for _, position in sorted(stream)] for stream in streams.values()]


def _punctuated(
    words: Sequence[Word],
    spellings: Spellings,
    caser: Caser,
    rules: SentenceRules,
    english: bool,
) -> list[str]:
    """The written text of each of ``words``, sentence by sentence."""
    texts: list[str] = []
    for sentence in split_sentences(words, rules, english):
        lower = [plain_word(words[i].text) or words[i].text for i in sentence.span]
        cased = _spelled(caser.case(lower), lower, spellings)
        cased = with_titles(cased) if english else cased
        cased[0] = cased[0][:1].upper() + cased[0][1:]
        for comma in sentence.commas:
            cased[comma - sentence.span.start] += ","
        cased[-1] += "?" if english and is_question(lower) else "."
        texts.extend(cased)
    return texts


def _spelled(cased: list[str], lower: Sequence[str], spellings: Spellings) -> list[str]:
    """``cased`` with every run of words the spelling list has written its way."""
    result = list(cased)
    index = 0
    while index < len(lower):
        length = _longest_spelled(lower, index, spellings)
        if length:
            result[index : index + length] = spellings.written(lower[index : index + length]) or ()
        index += max(length, 1)
    return result


def _longest_spelled(lower: Sequence[str], start: int, spellings: Spellings) -> int:
    """How many words from ``start`` on the longest matching spelling covers (0: none)."""
    for length in range(min(spellings.longest_form, len(lower) - start), 0, -1):
        if spellings.written(lower[start : start + length]) is not None:
            return length
    return 0


def _rewritten(index: int, segment: Segment, texts: dict[Position, str]) -> Segment:
    """``segment`` with its words' new texts and a text made of them."""
    words = tuple(replace(w, text=texts[(index, i)]) for i, w in enumerate(segment.words))
    return replace(segment, words=words, text=" ".join(word.text for word in words))
