"""Subtitle cues: splitting, wrapping, timestamps and escaping."""

from __future__ import annotations

import itertools

import pytest
from transcript_samples import make_segment

from dsac_asr.transcript import OutputFormat, Segment, Transcript, Word, render
from dsac_asr.transcript.subtitles import (
    MAX_CUE_CHARS,
    MAX_CUE_DURATION_S,
    format_timestamp,
    segment_cues,
    wrap_lines,
)


def _long_segment() -> Segment:
    """40 short words over 20 s: too long for one cue both in time and in characters."""
    return make_segment([(f"word{i}", 0.5 * i, 0.5 * i + 0.4, 0.9) for i in range(40)])


def _transcript(*segments: Segment) -> Transcript:
    return Transcript(segments=segments, language="en", model_id="m", duration_s=30.0)


def test_long_segment_is_split_within_limits() -> None:
    segment = _long_segment()
    cues = segment_cues(segment)
    assert len(cues) > 2
    for cue in cues:
        assert cue.end_s - cue.start_s <= MAX_CUE_DURATION_S
        assert len(cue.text) <= MAX_CUE_CHARS
    assert " ".join(cue.text for cue in cues) == segment.text


def test_split_cues_take_their_times_from_the_words() -> None:
    cues = segment_cues(_long_segment())
    starts = {0.5 * i for i in range(40)}
    assert cues[0].start_s == 0.0
    assert all(cue.start_s in starts for cue in cues)
    assert cues[-1].end_s == pytest.approx(0.5 * 39 + 0.4)
    assert all(a.end_s <= b.start_s for a, b in itertools.pairwise(cues))


def test_split_by_duration_alone() -> None:
    # 10 one-letter words, 1 s apart: few characters, but 10 s long.
    segment = make_segment([(c, float(i), i + 0.5, 0.9) for i, c in enumerate("abcdefghij")])
    cues = segment_cues(segment)
    assert [cue.text for cue in cues] == ["a b c d e f g", "h i j"]
    assert (cues[0].start_s, cues[0].end_s) == (0.0, 6.5)


def test_short_segment_is_one_cue() -> None:
    cues = segment_cues(make_segment([("Hello", 1.0, 1.5, 0.9), ("world.", 1.5, 2.0, 0.9)]))
    assert [(c.start_s, c.end_s, c.text) for c in cues] == [(1.0, 2.0, "Hello world.")]


def test_speaker_change_inside_a_segment_starts_a_new_cue() -> None:
    words = (Word("yes", 0.0, 0.3, 0.9, speaker="A"), Word("no", 0.5, 0.8, 0.9, speaker="B"))
    cues = segment_cues(Segment(words=words, text="yes no"))
    assert [(c.speaker, c.text) for c in cues] == [("A", "yes"), ("B", "no")]


def test_segment_text_is_used_when_it_lines_up_with_the_words() -> None:
    words = (Word("hello", 0.0, 0.3, 0.9), Word("world", 0.3, 0.6, 0.9))
    assert segment_cues(Segment(words=words, text="Hello, world!"))[0].text == "Hello, world!"
    # Tokens that do not line up one-to-one: fall back to the words' own text.
    assert segment_cues(Segment(words=words, text="Hello-world"))[0].text == "hello world"


def test_segment_without_words_gives_no_cue() -> None:
    assert segment_cues(Segment(words=(), text="orphan")) == []
    assert render(_transcript(Segment(words=(), text="orphan")), OutputFormat.SRT) == b""


def test_wrap_lines_balances_two_lines() -> None:
    text = "The committee will now consider the second reading of the bill"
    lines = wrap_lines(text)
    assert lines == ["The committee will now consider", "the second reading of the bill"]
    assert wrap_lines("short line") == ["short line"]
    assert wrap_lines("x" * 60) == ["x" * 60]


def test_srt_cue_of_a_long_segment_has_at_most_two_lines() -> None:
    srt = render(_transcript(_long_segment()), OutputFormat.SRT).decode()
    for block in srt.strip().split("\n\n"):
        number, timing, *lines = block.split("\n")
        assert number.isdigit()
        assert " --> " in timing
        assert 1 <= len(lines) <= 2
        assert all(len(line) <= 45 for line in lines)


@pytest.mark.parametrize(
    ("seconds", "mark", "expected"),
    [
        (0.0, ",", "00:00:00,000"),
        (1.23, ",", "00:00:01,230"),
        (1.23, ".", "00:00:01.230"),
        (59.9996, ".", "00:01:00.000"),
        (3725.123, ",", "01:02:05,123"),
        (-0.2, ",", "00:00:00,000"),
    ],
)
def test_format_timestamp(seconds: float, mark: str, expected: str) -> None:
    assert format_timestamp(seconds, mark) == expected


def test_vtt_escapes_markup_in_text() -> None:
    segment = make_segment([("<b>", 0.0, 0.5, 0.9), ("&", 0.5, 1.0, 0.9)], speaker="A")
    vtt = render(_transcript(segment), OutputFormat.VTT).decode()
    assert vtt == "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n<v A>&lt;b&gt; &amp;\n"
