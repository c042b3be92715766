"""Kaldi-style words made from another engine's: what a Kaldi model would write.

A Kaldi model writes lower-case words without punctuation, spells acronyms as
letter words, and its alignment puts silence outside words; Whisper writes
punctuated, cased words whose times run on into the pauses. Used by the
punctuation tests and ``bench/punctuation.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from dsac_asr.transcript import Word
from dsac_asr.transcript.casing import plain_word

FRAMES_PER_S = 100
SILENCE_DB = -40.0


def spelled_out(word: Word, acronyms: frozenset[str]) -> bool:
    """Whether ``word`` (``"SABC"``, ``"S.A.B.C."``) is an acronym a Kaldi model spells."""
    return plain_word(word.text).replace(".", "").upper() in acronyms


def kaldi_words(words: Sequence[Word], acronyms: frozenset[str]) -> list[Word]:
    """Lower case, no punctuation, acronyms as letters sharing the word's time evenly
    (such letter times are made up, not measured)."""
    out: list[Word] = []
    for word in words:
        plain = plain_word(word.text).replace(".", "")
        if not spelled_out(word, acronyms):
            out.extend([replace(word, text=plain)] if plain else [])
            continue
        step_s = (word.end_s - word.start_s) / len(plain)
        out.extend(
            replace(
                word,
                text=c,
                start_s=word.start_s + i * step_s,
                end_s=word.start_s + (i + 1) * step_s,
            )
            for i, c in enumerate(plain)
        )
    return out


def tightened(
    words: Sequence[Word], samples: npt.NDArray[np.float32], sample_rate_hz: int
) -> list[Word]:
    """Each word's span shrunk to its first and last 10 ms frame within 40 dB of the
    loudest frame of ``samples``, as a Kaldi alignment puts silence outside words."""
    hop = sample_rate_hz // FRAMES_PER_S
    frames = samples[: len(samples) // hop * hop].astype(np.float64).reshape(-1, hop)
    rms = np.sqrt((frames**2).mean(axis=1) + 1e-12)
    loud = 20 * np.log10(rms / rms.max()) > SILENCE_DB
    out = []
    for word in words:
        first = int(word.start_s * FRAMES_PER_S)
        last = max(first + 1, int(word.end_s * FRAMES_PER_S))
        found = np.nonzero(loud[first:last])[0]
        if len(found) == 0:
            out.append(word)
            continue
        start_s, end_s = (first + found[0]) / FRAMES_PER_S, (first + found[-1] + 1) / FRAMES_PER_S
        out.append(replace(word, start_s=start_s, end_s=end_s))
    return out
