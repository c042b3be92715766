"""Greedy CTC decoding on posteriors written by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from dsac_asr.engines.ctc_decode import Vocabulary, find_blank, greedy_words, read_tokens
from dsac_asr.errors import ModelError


def _posteriors(path: list[int], size: int, peak: float = 0.9) -> npt.NDArray[np.float32]:
    """Log posteriors whose best token in frame ``t`` is ``path[t]`` with ``peak``."""
    rest = (1 - peak) / (size - 1)
    probs = np.full((len(path), size), rest, dtype=np.float32)
    probs[np.arange(len(path)), path] = peak
    return np.log(probs)


def test_letters_join_between_delimiters_and_repeats_need_a_blank() -> None:
    vocabulary = Vocabulary(("<pad>", "|", "a", "b", "l"), blank_id=0, word_delimiter="|")
    # frames: b b _ a l _ l | | _ a _ -> "ball" (0..7) and "a" (10..11)
    path = [3, 3, 0, 2, 4, 0, 4, 1, 1, 0, 2, 0]
    words = greedy_words(_posteriors(path, 5), vocabulary)
    assert [(w.text, w.first_frame, w.end_frame) for w in words] == [("ball", 0, 7), ("a", 10, 11)]
    assert words[0].confidence == pytest.approx(0.9)


def test_sentencepiece_word_starts_and_space_tokens_cut_words() -> None:
    vocabulary = Vocabulary(("<blk>", "\u2581sa", "wu", "\u2581bo", " ", "na"), 0, None)
    path = [1, 2, 0, 3, 5, 4, 5, 0]
    words = greedy_words(_posteriors(path, 6), vocabulary)
    assert [w.text for w in words] == ["sawu", "bona", "na"]


def test_confidence_is_the_mean_posterior_of_the_emitted_frames() -> None:
    vocabulary = Vocabulary(("<pad>", "|", "a"), 0)
    log_probs = np.log(np.array([[0.2, 0.2, 0.6], [0.1, 0.1, 0.8], [0.9, 0.05, 0.05]], "f4"))
    (word,) = greedy_words(log_probs, vocabulary)
    assert word.confidence == pytest.approx(0.7)
    assert greedy_words(np.zeros((0, 3), "f4"), vocabulary) == []


def test_tokens_file_in_sherpa_layout(tmp_path: Path) -> None:
    path = tmp_path / "tokens.txt"
    path.write_text("<blk> 0\n  1\n\u2581a 2\n")
    tokens = read_tokens(path)
    assert tokens == ("<blk>", " ", "\u2581a") and find_blank(tokens) == 0
    assert find_blank(("<s>", "<pad>", "a")) == 0 and find_blank(("a", "<blank>")) == 1
    path.write_text("<blk> 0\na 2\n")
    with pytest.raises(ModelError, match="without gaps"):
        read_tokens(path)
    path.write_text("<blk>\n")
    with pytest.raises(ModelError, match="TOKEN ID"):
        read_tokens(path)
