"""RTTM output: speaker turns kept on the transcript, stored, reloaded (also from
version 1 files) and rendered as standard RTTM lines."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from transcript_samples import empty_transcript, plain_transcript, two_speaker_transcript

from dsac_asr.errors import InvalidOptionError
from dsac_asr.transcript import OutputFormat, SpeakerSpan, render
from dsac_asr.transcript.rttm import render_rttm
from dsac_asr.transcript.serialize import FORMAT_VERSION, dumps, loads

RTTM_FIELDS = 10


def _columns(rttm: str) -> list[list[str]]:
    return [line.split() for line in rttm.splitlines()]


def test_lines_are_standard_rttm_from_the_turns_sorted_by_start() -> None:
    rttm = render(two_speaker_transcript(), OutputFormat.RTTM, recording_id="call-42").decode()
    rows = _columns(rttm)
    assert all(len(row) == RTTM_FIELDS for row in rows)
    assert all(row[:3] == ["SPEAKER", "call-42", "1"] for row in rows)
    assert all(row[5:7] == ["<NA>", "<NA>"] and row[8:] == ["<NA>", "<NA>"] for row in rows)
    starts = [float(row[3]) for row in rows]
    assert starts == sorted(starts) == [0.42, 3.46, 5.55, 5.6]
    # the turns themselves: B's word-less "mm" overlapping A is there
    assert [row[7] for row in rows] == ["A", "B", "A", "B"]


def test_times_have_three_decimals_and_tiny_turns_are_left_out() -> None:
    turns = (
        SpeakerSpan(1.23456, 2.00049, "A"),
        SpeakerSpan(3.0, 3.0004, "B"),  # rounds to nothing
        SpeakerSpan(0.0001, 0.5, "B"),
    )
    transcript = replace(empty_transcript(), speaker_turns=turns)
    assert render_rttm(transcript, file_id="f") == (
        "SPEAKER f 1 0.000 0.500 <NA> <NA> B <NA> <NA>\n"
        "SPEAKER f 1 1.235 0.765 <NA> <NA> A <NA> <NA>\n"
    )


def test_speaker_labels_never_break_the_columns() -> None:
    transcript = replace(empty_transcript(), speaker_turns=(SpeakerSpan(0, 1, "agent one"),))
    assert _columns(render_rttm(transcript, file_id="x"))[0][7] == "agent_one"


def test_a_transcript_without_speakers_is_refused_with_the_way_to_get_them() -> None:
    with pytest.raises(InvalidOptionError, match=r"--diarize"):
        render(plain_transcript(), OutputFormat.RTTM)


def test_diarised_silence_is_an_empty_file() -> None:
    transcript = replace(empty_transcript(), speaker_turns=())
    assert render(transcript, OutputFormat.RTTM) == b""


@pytest.mark.parametrize("bad_id", ["", "two words", "tab\there"])
def test_bad_file_ids_are_refused(bad_id: str) -> None:
    with pytest.raises(InvalidOptionError, match="RTTM file id"):
        render_rttm(two_speaker_transcript(), file_id=bad_id)


@pytest.mark.parametrize("turns", [None, (), two_speaker_transcript().speaker_turns])
def test_turns_round_trip_through_serialize(
    turns: tuple[SpeakerSpan, ...] | None,
) -> None:
    original = replace(two_speaker_transcript(), speaker_turns=turns)
    reloaded = loads(dumps(original))
    assert reloaded == original
    assert reloaded.speaker_turns == turns
    assert json.loads(dumps(original))["version"] == FORMAT_VERSION == 2


def test_version_1_files_still_load_without_turns() -> None:
    version_1 = {
        "version": 1,
        "language": "en",
        "model_id": "whisper-base",
        "duration_s": 2.0,
        "metadata": {"speakers": "1"},
        "segments": [
            {"text": "Hello.", "speaker": "A", "words": [["Hello.", 0.2, 0.6, 0.9, "A", "en"]]}
        ],
    }
    transcript = loads(json.dumps(version_1).encode())
    assert transcript.speaker_turns is None
    assert transcript.text == "Hello."
    assert transcript.words[0].speaker == "A"
    with pytest.raises(InvalidOptionError):  # no turns were kept then: not glued from words
        render(transcript, OutputFormat.RTTM)
