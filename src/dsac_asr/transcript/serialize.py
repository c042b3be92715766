"""The full transcript as JSON (segments, speakers, metadata), to store and reload it.

Unlike the seed-shaped ``json`` output format, this keeps everything needed
to render every other format later.
"""

from __future__ import annotations

import json
from typing import Any

from dsac_asr.transcript.model import Segment, Transcript, Word

FORMAT_VERSION = 1


def _word_to_list(word: Word) -> list[Any]:
    return [word.text, word.start_s, word.end_s, word.confidence, word.speaker, word.language]


def dumps(transcript: Transcript) -> bytes:
    """Serialise ``transcript`` to UTF-8 JSON bytes."""
    document = {
        "version": FORMAT_VERSION,
        "language": transcript.language,
        "model_id": transcript.model_id,
        "duration_s": transcript.duration_s,
        "metadata": transcript.metadata,
        "segments": [
            {
                "text": s.text,
                "speaker": s.speaker,
                "words": [_word_to_list(w) for w in s.words],
            }
            for s in transcript.segments
        ],
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def loads(data: bytes) -> Transcript:
    """The transcript serialised by ``dumps``."""
    document = json.loads(data)
    segments = tuple(
        Segment(
            words=tuple(Word(*fields) for fields in s["words"]),
            text=s["text"],
            speaker=s["speaker"],
        )
        for s in document["segments"]
    )
    return Transcript(
        segments=segments,
        language=document["language"],
        model_id=document["model_id"],
        duration_s=document["duration_s"],
        metadata=dict(document["metadata"]),
    )
