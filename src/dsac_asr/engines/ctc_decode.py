"""Greedy CTC decoding: frame posteriors in, timed and scored words out.

The best token of each frame is taken; runs of one token are one emission and
blanks separate emissions. Words are cut at the word delimiter (``|`` in
wav2vec2 vocabularies), at a space token, or before a token that starts with
SentencePiece's ``▁``. A word lasts from the first frame of its first
emission to the end of the last frame of its last one, and its confidence is
the mean posterior of its emitted tokens over their frames.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from dsac_asr.errors import ModelError

WORD_START = "\u2581"
BLANK_NAMES = ("<blk>", "<eps>", "<blank>")
"""sherpa-onnx's names for the blank, in its order; without one the blank is 0."""
SKIPPED = frozenset({"<s>", "</s>", "<unk>", "<pad>", "<blk>", "<blank>", "<eps>", "<sil>"})


@dataclass(frozen=True)
class Vocabulary:
    """A CTC model's output tokens, its blank and its word delimiter (None: ``▁``/space)."""

    tokens: tuple[str, ...]
    blank_id: int
    word_delimiter: str | None = "|"

    def breaks_before(self, token: str) -> bool:
        """True when ``token`` ends the word before it."""
        return token == self.word_delimiter or not token.strip() or token.startswith(WORD_START)

    def text_of(self, token: str) -> str:
        """The letters ``token`` adds to a word."""
        if token == self.word_delimiter or token in SKIPPED:
            return ""
        return token.removeprefix(WORD_START).strip()


def read_tokens(path: Path) -> tuple[str, ...]:
    """``tokens.txt`` (sherpa-onnx: ``TOKEN ID`` per line) as tokens in id order."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ModelError(f"cannot read the token list {path}: {exc}") from exc
    by_id: dict[int, str] = {}
    for number, line in enumerate(lines, start=1):
        token, _, index = line.rstrip("\n").rpartition(" ")
        if not index.isdigit():
            raise ModelError(f"{path}:{number}: expected 'TOKEN ID', not {line!r}")
        by_id[int(index)] = token if token else " "
    if sorted(by_id) != list(range(len(by_id))):
        raise ModelError(f"{path}: token ids must run from 0 without gaps")
    return tuple(by_id[i] for i in range(len(by_id)))


def find_blank(tokens: tuple[str, ...]) -> int:
    """The id of the blank token as sherpa-onnx finds it: ``<blk>``, ``<eps>`` or
    ``<blank>``, else 0 (Omnilingual ASR's blank is 0 although its tokens have ``<pad>``)."""
    for name in BLANK_NAMES:
        if name in tokens:
            return tokens.index(name)
    return 0


@dataclass(frozen=True)
class AlignedWord:
    """A word from the greedy path: frames ``[first, end)`` and its confidence."""

    text: str
    first_frame: int
    end_frame: int
    confidence: float


@dataclass
class _Word:
    letters: list[str]
    first_frame: int
    end_frame: int
    scores: list[float]


def log_softmax(logits: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Log posteriors of ``(frames, tokens)`` logits (already normalised ones stay so)."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    result: npt.NDArray[np.float32] = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    return result


def greedy_words(log_probs: npt.NDArray[np.float32], vocabulary: Vocabulary) -> list[AlignedWord]:
    """The words of the best path through ``(frames, tokens)`` log posteriors."""
    best = log_probs.argmax(axis=-1)
    scores = np.exp(log_probs[np.arange(len(best)), best])
    words: list[_Word] = []
    current: _Word | None = None
    for start, end in _runs(best):
        token_id = int(best[start])
        if token_id == vocabulary.blank_id:
            continue
        token = vocabulary.tokens[token_id]
        if current is not None and vocabulary.breaks_before(token):
            words.append(current)
            current = None
        letters = vocabulary.text_of(token)
        if not letters:
            continue
        if current is None:
            current = _Word([], start, end, [])
        current.letters.append(letters)
        current.end_frame = end
        current.scores.extend(float(s) for s in scores[start:end])
    if current is not None:
        words.append(current)
    return [
        AlignedWord("".join(w.letters), w.first_frame, w.end_frame, float(np.mean(w.scores)))
        for w in words
    ]


def _runs(best: npt.NDArray[np.int64]) -> list[tuple[int, int]]:
    """``[start, end)`` of each run of one token in the frame-by-frame best path."""
    if len(best) == 0:
        return []
    changes = np.flatnonzero(np.diff(best)) + 1
    bounds = [0, *changes.tolist(), len(best)]
    return list(itertools.pairwise(bounds))
