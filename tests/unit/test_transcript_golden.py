"""Text formats compared byte for byte with golden files checked by hand."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from transcript_samples import plain_transcript, two_speaker_transcript

from dsac_asr.transcript import OutputFormat, Transcript, render

GOLDEN_DIR = Path(__file__).parent / "golden"
SAMPLES: dict[str, Callable[[], Transcript]] = {
    "plain": plain_transcript,
    "two_speakers": two_speaker_transcript,
}
TEXT_FORMATS = [f for f in OutputFormat if not f.is_binary]
# RTTM needs speaker turns, which the plain sample has none of (tested in test_transcript_rttm).
CASES = [
    (sample, fmt)
    for sample in sorted(SAMPLES)
    for fmt in TEXT_FORMATS
    if not (fmt is OutputFormat.RTTM and sample == "plain")
]


@pytest.mark.parametrize(("sample", "fmt"), CASES, ids=str)
def test_matches_golden_file(sample: str, fmt: OutputFormat) -> None:
    expected = (GOLDEN_DIR / f"transcript_{sample}{fmt.extension}").read_bytes()
    assert render(SAMPLES[sample](), fmt) == expected


def test_json_has_exactly_the_seed_shape() -> None:
    result = json.loads(render(two_speaker_transcript(), OutputFormat.JSON))
    assert list(result) == ["results"]
    assert len(result["results"]) == 1
    alternatives = result["results"][0]["alternatives"]
    assert len(alternatives) == 1
    assert list(alternatives[0]) == ["transcript", "confidence", "words"]
    first = alternatives[0]["words"][0]
    assert first == {
        "startTime": 0.5,
        "endTime": 0.8,
        "word": "Good",
        "confidence": 0.99,
        "speaker": "A",
    }


def test_json_leaves_out_unknown_speakers_and_keeps_non_ascii() -> None:
    text = render(plain_transcript(), OutputFormat.JSON).decode("utf-8")
    assert "café." in text
    assert "\\u" not in text
    words = json.loads(text)["results"][0]["alternatives"][0]["words"]
    assert all("speaker" not in word for word in words)


def test_json_rounds_times_and_confidences() -> None:
    alternative = json.loads(render(plain_transcript(), OutputFormat.JSON))["results"][0][
        "alternatives"
    ][0]
    cafe = next(w for w in alternative["words"] if w["word"] == "café.")
    test = next(w for w in alternative["words"] if w["word"] == "test.")
    assert cafe["endTime"] == 3.56
    assert test["confidence"] == 0.877
    assert alternative["confidence"] == 0.893
