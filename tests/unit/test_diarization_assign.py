"""Speakers onto recognised words."""

from __future__ import annotations

from dsac_asr.diarization import SpeakerTurn, assign_speakers, split_by_speaker
from dsac_asr.transcript import Segment, Word


def _segment(*words: tuple[str, float, float]) -> Segment:
    made = tuple(Word(text, start, end, 0.9, None, "eng") for text, start, end in words)
    return Segment(made, " ".join(w.text for w in made))


def test_each_word_takes_the_speaker_it_overlaps_most() -> None:
    turns = [SpeakerTurn(0.0, 2.0, "A"), SpeakerTurn(2.0, 4.0, "B")]
    segment = _segment(
        ("one", 0.2, 0.6), ("two", 1.7, 2.4), ("three", 1.9, 2.2), ("four", 3.0, 3.5)
    )
    words = [w for s in assign_speakers([segment], turns) for w in s.words]
    assert [w.speaker for w in words] == ["A", "B", "B", "B"]
    assert [w.language for w in words] == ["eng"] * 4


def test_a_word_outside_every_turn_takes_the_nearest() -> None:
    turns = [SpeakerTurn(1.0, 2.0, "A"), SpeakerTurn(5.0, 6.0, "B")]
    segment = _segment(
        ("early", 0.1, 0.3), ("late", 2.5, 2.8), ("gap", 4.2, 4.6), ("end", 7.0, 7.2)
    )
    words = [w for s in assign_speakers([segment], turns) for w in s.words]
    assert [w.speaker for w in words] == ["A", "A", "B", "B"]


def test_segments_split_where_the_speaker_changes() -> None:
    turns = [SpeakerTurn(0.0, 1.0, "A"), SpeakerTurn(1.0, 2.0, "B"), SpeakerTurn(2.0, 3.0, "A")]
    segment = _segment(("a", 0.1, 0.4), ("b", 0.5, 0.8), ("c", 1.2, 1.6), ("d", 2.2, 2.5))
    pieces = assign_speakers([segment], turns)
    assert [(p.speaker, p.text) for p in pieces] == [("A", "a b"), ("B", "c"), ("A", "d")]


def test_an_unsplit_segment_keeps_its_text_and_gets_the_speaker() -> None:
    segment = Segment((Word("Hello", 0.1, 0.5, 0.9),), "Hello, there!")
    assert split_by_speaker(segment) == [segment]  # no speakers yet: unchanged
    turns = [SpeakerTurn(0.0, 1.0, "Z")]
    (labelled,) = assign_speakers([segment], turns)
    assert (labelled.text, labelled.speaker, labelled.words[0].speaker) == (
        "Hello, there!",
        "A",
        "A",
    )


def test_labels_are_renamed_in_order_of_the_words() -> None:
    turns = [SpeakerTurn(0.0, 1.0, "A"), SpeakerTurn(1.0, 2.0, "B"), SpeakerTurn(2.0, 3.0, "C")]
    segment = _segment(
        ("x", 1.2, 1.5), ("y", 2.2, 2.5), ("z", 1.6, 1.9)
    )  # nobody speaks in A's turn
    speakers = [w.speaker for s in assign_speakers([segment], turns) for w in s.words]
    assert speakers == ["A", "B", "A"]


def test_without_turns_segments_are_unchanged() -> None:
    segment = _segment(("a", 0.1, 0.4))
    assert assign_speakers([segment], []) == (segment,)
