"""RTTM (NIST Rich Transcription Time Marked): one line per speaker turn.

``SPEAKER <file> 1 <start> <duration> <NA> <NA> <speaker> <NA> <NA>``

The lines are the transcript's speaker turns (what diarisation found, or each
channel's speech when channels were recognised separately), not words glued
together: a turn covers speech in which no word was recognised, and two turns
overlap where two people speak at once. Times are in seconds with 3 decimals
(the duration is taken between the rounded start and end, and a turn that
rounds to nothing is left out); lines are in order of start time. A transcript
made without speakers has no turns to write: rendering it raises
``InvalidOptionError`` saying how to get them, while a diarised transcript in
which nobody spoke renders as an empty file.
"""

from __future__ import annotations

from dsac_asr.errors import InvalidOptionError
from dsac_asr.transcript.model import SpeakerSpan, Transcript

RTTM_CHANNEL = "1"
NO_TURNS_MESSAGE = (
    "rttm needs speaker turns, and this transcript has none: transcribe with "
    "diarisation (--diarize, job option diarize) or with channels recognised separately"
)


def check_file_id(file_id: str, what: str) -> None:
    """Raise ``InvalidOptionError`` unless ``file_id`` is non-empty and without whitespace
    (``what`` names the column in the message, e.g. ``"CTM utterance id"``)."""
    if not file_id or any(char.isspace() for char in file_id):
        raise InvalidOptionError(f"{what} must be non-empty and without spaces, got {file_id!r}")


def _rttm_line(file_id: str, turn: SpeakerSpan) -> str | None:
    start_s = round(turn.start_s, 3)
    duration_s = round(round(turn.end_s, 3) - start_s, 3)
    if duration_s <= 0:
        return None
    speaker = "_".join(turn.speaker.split()) or "unknown"
    timing = f"{start_s:.3f} {duration_s:.3f}"
    return f"SPEAKER {file_id} {RTTM_CHANNEL} {timing} <NA> <NA> {speaker} <NA> <NA>"


def render_rttm(transcript: Transcript, *, file_id: str) -> str:
    """The transcript's speaker turns as RTTM text ("" when diarisation found no speech).

    Raises ``InvalidOptionError`` when the transcript has no speaker turns
    (speakers were not asked for), or when ``file_id`` is empty or holds whitespace.
    """
    check_file_id(file_id, "RTTM file id")
    if transcript.speaker_turns is None:
        raise InvalidOptionError(NO_TURNS_MESSAGE)
    turns = sorted(transcript.speaker_turns, key=lambda t: (t.start_s, t.end_s, t.speaker))
    lines = (_rttm_line(file_id, turn) for turn in turns)
    return "".join(f"{line}\n" for line in lines if line is not None)
