"""The OutputFormat enum, the render entry point, empty transcripts, CTM options and docx."""

from __future__ import annotations

import io
import json

import docx
import pytest
from docx.text.paragraph import Paragraph
from transcript_samples import empty_transcript, plain_transcript, two_speaker_transcript

from dsac_asr.errors import InvalidOptionError
from dsac_asr.transcript import OutputFormat, Transcript, render
from dsac_asr.transcript.ctm import render_ctm
from dsac_asr.transcript.document import format_duration

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.mark.parametrize(
    ("fmt", "media_type", "extension"),
    [
        (OutputFormat.JSON, "application/json", ".json"),
        (OutputFormat.TXT, "text/plain; charset=utf-8", ".txt"),
        (OutputFormat.SRT, "application/x-subrip", ".srt"),
        (OutputFormat.VTT, "text/vtt", ".vtt"),
        (OutputFormat.CTM, "text/plain; charset=utf-8", ".ctm"),
        (OutputFormat.RTTM, "text/plain; charset=utf-8", ".rttm"),
        (OutputFormat.DOCX, DOCX_TYPE, ".docx"),
    ],
)
def test_format_properties(fmt: OutputFormat, media_type: str, extension: str) -> None:
    assert fmt.media_type == media_type
    assert fmt.extension == extension
    assert fmt.is_binary == (fmt is OutputFormat.DOCX)


def test_parse_accepts_case_and_dot_and_rejects_unknown() -> None:
    assert OutputFormat.parse("SRT") is OutputFormat.SRT
    assert OutputFormat.parse(".vtt") is OutputFormat.VTT
    assert OutputFormat.parse("RTTM") is OutputFormat.RTTM
    with pytest.raises(InvalidOptionError, match=r"pdf.*json, txt, srt, vtt, ctm, rttm, docx"):
        OutputFormat.parse("pdf")


EMPTY_TEXT = {
    OutputFormat.JSON: '{"results": [{"alternatives": '
    '[{"transcript": "", "confidence": 0.0, "words": []}]}]}',
    OutputFormat.TXT: "",
    OutputFormat.SRT: "",
    OutputFormat.VTT: "WEBVTT\n",
    OutputFormat.CTM: "",
}


@pytest.mark.parametrize("fmt", list(EMPTY_TEXT), ids=str)
def test_empty_transcript_in_text_formats(fmt: OutputFormat) -> None:
    assert render(empty_transcript(), fmt).decode("utf-8") == EMPTY_TEXT[fmt]


def test_every_format_is_covered_by_the_empty_test() -> None:
    # RTTM of a transcript without speakers is refused (test_transcript_rttm.py covers it)
    assert set(EMPTY_TEXT) | {OutputFormat.DOCX, OutputFormat.RTTM} == set(OutputFormat)


def test_empty_json_parses() -> None:
    result = json.loads(render(empty_transcript(), OutputFormat.JSON))
    assert result["results"][0]["alternatives"][0]["words"] == []


def _paragraphs(transcript: Transcript) -> list[Paragraph]:
    document = docx.Document(io.BytesIO(render(transcript, OutputFormat.DOCX)))
    return list(document.paragraphs)


def test_empty_transcript_docx_has_heading_and_metadata_only() -> None:
    paragraphs = _paragraphs(empty_transcript())
    assert [p.text for p in paragraphs] == [
        "Transcript",
        "Language: en · Model: whisper-tiny.en · Duration: 0:00:03",
    ]


def test_docx_with_speakers_has_one_paragraph_per_turn_with_bold_label() -> None:
    heading, metadata, *turns = _paragraphs(two_speaker_transcript())
    assert heading.text == "Transcript"
    assert heading.style is not None and heading.style.name == "Heading 1"
    assert metadata.text == "Language: en · Model: vosk-en-8k · Duration: 0:00:07"
    assert [t.text for t in turns] == [
        "Speaker A: Good morning, how can I help? This is Thandi.",
        "Speaker B: Hi, my account is locked.",
        "Speaker A: Let me check.",
    ]
    for turn in turns:
        label, *rest = turn.runs
        assert label.bold is True
        assert all(not run.bold for run in rest)


def test_docx_without_speakers_has_one_paragraph_per_segment() -> None:
    _, _, *body = _paragraphs(plain_transcript())
    assert [p.text for p in body] == [s.text for s in plain_transcript().segments]
    assert all(not run.bold for p in body for run in p.runs)


@pytest.mark.parametrize(
    ("duration_s", "expected"), [(0.4, "0:00:00"), (59.6, "0:01:00"), (3725.0, "1:02:05")]
)
def test_format_duration(duration_s: float, expected: str) -> None:
    assert format_duration(duration_s) == expected


def test_ctm_utterance_id_is_passed_through_render() -> None:
    ctm = render(two_speaker_transcript(), OutputFormat.CTM, recording_id="call-42").decode()
    assert ctm.splitlines()[0] == "call-42 1 0.50 0.30 Good 0.990 A"


@pytest.mark.parametrize("bad_id", ["", "two words", "tab\there"])
def test_ctm_rejects_bad_utterance_ids(bad_id: str) -> None:
    with pytest.raises(InvalidOptionError):
        render_ctm(plain_transcript(), utterance_id=bad_id)


def test_render_encodes_text_as_utf8() -> None:
    assert "café.".encode() in render(plain_transcript(), OutputFormat.TXT)


def test_full_transcript_round_trips_through_serialize() -> None:
    from transcript_samples import two_speaker_transcript

    from dsac_asr.transcript.serialize import dumps, loads

    original = two_speaker_transcript()
    assert loads(dumps(original)) == original
