"""The seed's result JSON: one result, one alternative holding every word.

Shape (seconds rounded to 2 decimals, confidences to 3; ``speaker`` only when
the word's speaker is known)::

    {"results": [{"alternatives": [{"transcript": "...", "confidence": 0.93,
      "words": [{"startTime": 0.38, "endTime": 0.71, "word": "This",
                 "confidence": 1.0, "speaker": "A"}]}]}]}
"""

from __future__ import annotations

import json

from dsac_asr.transcript.model import Transcript, Word

_TIME_DECIMALS = 2
_CONFIDENCE_DECIMALS = 3

JsonWord = dict[str, str | float]


def _word_json(word: Word) -> JsonWord:
    entry: JsonWord = {
        "startTime": round(word.start_s, _TIME_DECIMALS),
        "endTime": round(word.end_s, _TIME_DECIMALS),
        "word": word.text,
        "confidence": round(word.confidence, _CONFIDENCE_DECIMALS),
    }
    if word.speaker is not None:
        entry["speaker"] = word.speaker
    return entry


def result_dict(transcript: Transcript) -> dict[str, object]:
    """The result as plain JSON-ready data (see the module docstring for the shape)."""
    alternative = {
        "transcript": transcript.text,
        "confidence": round(transcript.confidence, _CONFIDENCE_DECIMALS),
        "words": [_word_json(word) for word in transcript.words],
    }
    return {"results": [{"alternatives": [alternative]}]}


def render_json(transcript: Transcript) -> str:
    """The seed's result JSON as compact text; non-ASCII characters are kept as is."""
    return json.dumps(result_dict(transcript), ensure_ascii=False)
