"""Channel merging and speaker labels."""

from __future__ import annotations

from dataclasses import replace

import pytest
from transcript_samples import make_segment

from dsac_asr.transcript import label_speaker, merge_channels, speaker_label


@pytest.mark.parametrize(
    ("index", "label"),
    [(0, "A"), (1, "B"), (25, "Z"), (26, "AA"), (27, "AB"), (51, "AZ"), (52, "BA"), (701, "ZZ")],
)
def test_speaker_label(index: int, label: str) -> None:
    assert speaker_label(index) == label


def test_speaker_label_after_zz_has_three_letters() -> None:
    assert speaker_label(702) == "AAA"


def test_speaker_label_rejects_negative_index() -> None:
    with pytest.raises(ValueError, match="-1"):
        speaker_label(-1)


def test_label_speaker_sets_segment_and_every_word() -> None:
    segments = (make_segment([("hello", 0.0, 0.4, 0.9), ("there", 0.4, 0.8, 0.8)]),)
    labelled = label_speaker(segments, "B")
    assert labelled[0].speaker == "B"
    assert [w.speaker for w in labelled[0].words] == ["B", "B"]
    assert [w.text for w in labelled[0].words] == ["hello", "there"]
    assert segments[0].speaker is None  # the input is left untouched


def test_merge_channels_orders_by_start_time() -> None:
    agent = label_speaker(
        [make_segment([("hello", 0.5, 1.0, 0.9)]), make_segment([("sure", 4.0, 4.5, 0.9)])], "A"
    )
    customer = label_speaker(
        [make_segment([("hi", 1.5, 2.0, 0.9)]), make_segment([("thanks", 6.0, 6.5, 0.9)])], "B"
    )
    merged = merge_channels([agent, customer])
    assert [s.text for s in merged] == ["hello", "hi", "sure", "thanks"]
    assert [s.speaker for s in merged] == ["A", "B", "A", "B"]


def test_merge_channels_is_stable_for_equal_starts() -> None:
    first = label_speaker([make_segment([("one", 1.0, 1.5, 0.9)])], "A")
    second = label_speaker([make_segment([("two", 1.0, 1.2, 0.9)])], "B")
    assert [s.speaker for s in merge_channels([first, second])] == ["A", "B"]
    assert [s.speaker for s in merge_channels([second, first])] == ["B", "A"]


def test_merge_channels_of_nothing_is_empty() -> None:
    assert merge_channels([]) == ()
    assert merge_channels([[], []]) == ()


def test_merge_channels_splits_a_segment_where_the_other_channel_speaks() -> None:
    agent = label_speaker(
        [
            make_segment(
                [("good", 0.0, 0.4, 0.9), ("morning", 0.4, 0.9, 0.9), ("sir", 5.0, 5.3, 0.9)]
            )
        ],
        "A",
    )
    customer = label_speaker([make_segment([("hello", 2.0, 2.5, 0.9)])], "B")
    merged = merge_channels([agent, customer])
    assert [s.text for s in merged] == ["good morning", "hello", "sir"]
    assert [s.speaker for s in merged] == ["A", "B", "A"]
    assert [w.start_s for s in merged for w in s.words] == [0.0, 0.4, 2.0, 5.0]


def test_merge_channels_keeps_an_intact_segment_text() -> None:
    words = [("hello", 0.0, 0.4, 0.9), ("there", 0.5, 0.9, 0.9)]
    intact = replace(label_speaker([make_segment(words)], "A")[0], text="Hello there!")
    merged = merge_channels([[intact], []])
    assert merged == (intact,)
    assert merged[0].text == "Hello there!"
