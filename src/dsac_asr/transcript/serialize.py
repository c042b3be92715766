"""The full transcript as JSON (segments, speakers, metadata), to store and reload it.

Unlike the seed-shaped ``json`` output format, this keeps everything needed
to render every other format later. Version 2 added ``speaker_turns``
(``null`` when speakers were not determined, else ``[start_s, end_s, speaker]``
triples); version 1 documents, written before, load without turns.
"""

from __future__ import annotations

import json
from typing import Any

from dsac_asr.transcript.model import Segment, SpeakerSpan, Transcript, Word

FORMAT_VERSION = 2


def _word_to_list(word: Word) -> list[Any]:
    return [word.text, word.start_s, word.end_s, word.confidence, word.speaker, word.language]


def _turns_to_lists(turns: tuple[SpeakerSpan, ...] | None) -> list[list[Any]] | None:
    if turns is None:
        return None
    return [[turn.start_s, turn.end_s, turn.speaker] for turn in turns]


def _turns_from_lists(lists: list[list[Any]] | None) -> tuple[SpeakerSpan, ...] | None:
    if lists is None:
        return None
    return tuple(
        SpeakerSpan(float(start_s), float(end_s), str(speaker)) for start_s, end_s, speaker in lists
    )


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
        "speaker_turns": _turns_to_lists(transcript.speaker_turns),
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def loads(data: bytes) -> Transcript:
    """The transcript serialised by ``dumps`` (any version up to ``FORMAT_VERSION``)."""
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
        speaker_turns=_turns_from_lists(document.get("speaker_turns")),
    )
