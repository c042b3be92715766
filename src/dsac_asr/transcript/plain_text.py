"""Plain-text transcripts."""

from __future__ import annotations

from dsac_asr.transcript.model import Transcript
from dsac_asr.transcript.turns import has_speakers, speaker_turns


def _turn_line(speaker: str | None, text: str) -> str:
    return f"Speaker {speaker}: {text}" if speaker is not None else text


def render_txt(transcript: Transcript) -> str:
    """Plain text, one line per segment, ending in a newline ("" when empty).

    When speakers are known, consecutive segments of one speaker are joined
    into one line ``Speaker A: text`` (a segment with no known speaker amid
    them is written without a label).
    """
    if has_speakers(transcript.segments):
        lines = [_turn_line(t.speaker, t.text) for t in speaker_turns(transcript.segments)]
    else:
        lines = [s.text.strip() for s in transcript.segments if s.text.strip()]
    return "".join(f"{line}\n" for line in lines)
