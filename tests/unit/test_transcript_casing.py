from __future__ import annotations

from dsac_asr.transcript import Segment, Transcript, Word
from dsac_asr.transcript.casing import plain_word, without_punctuation


def test_plain_word_keeps_inner_apostrophes_and_hyphens() -> None:
    assert plain_word("Hello,") == "hello"
    assert plain_word('"Don\'t"') == "don't"
    assert plain_word("co-op.") == "co-op"
    assert plain_word("Môre!") == "môre"
    assert plain_word("4567.") == "4567"
    assert plain_word("...") == ""


def test_without_punctuation_keeps_timings_and_speakers() -> None:
    words = (
        Word("Good", 0.0, 0.3, 0.9, "A"),
        Word("morning.", 0.3, 0.7, 0.8, "A"),
        Word("—", 0.7, 0.8, 0.5, "A"),
        Word("How's", 1.0, 1.3, 0.9, "A"),
    )
    transcript = Transcript((Segment(words, "Good morning. — How's", "A"),), "eng", "m", 2.0)
    plain = without_punctuation(transcript)
    assert plain.text == "good morning how's"
    assert [(w.text, w.start_s, w.end_s, w.speaker) for w in plain.words] == [
        ("good", 0.0, 0.3, "A"),
        ("morning", 0.3, 0.7, "A"),
        ("how's", 1.0, 1.3, "A"),
    ]
