"""Word (.docx) transcripts, made with python-docx.

python-docx (and lxml under it) is imported only when a document is rendered,
so that importing the transcript package stays cheap for the engines and workers.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from dsac_asr.transcript.model import Transcript
from dsac_asr.transcript.turns import has_speakers, speaker_turns

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument

TITLE = "Transcript"


def format_duration(duration_s: float) -> str:
    """``H:MM:SS`` for a duration in seconds (rounded to the nearest second)."""
    minutes, seconds = divmod(max(0, round(duration_s)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}"


def metadata_line(transcript: Transcript) -> str:
    """The line under the title: language, model and duration."""
    return (
        f"Language: {transcript.language} · Model: {transcript.model_id}"
        f" · Duration: {format_duration(transcript.duration_s)}"
    )


def _add_body(document: DocxDocument, transcript: Transcript) -> None:
    if not has_speakers(transcript.segments):
        for segment in transcript.segments:
            if segment.text.strip():
                document.add_paragraph(segment.text.strip())
        return
    for turn in speaker_turns(transcript.segments):
        paragraph = document.add_paragraph()
        if turn.speaker is not None:
            paragraph.add_run(f"Speaker {turn.speaker}:").bold = True
            paragraph.add_run(" ")
        paragraph.add_run(turn.text)


def render_docx(transcript: Transcript) -> bytes:
    """A Word document: a "Transcript" heading, a metadata line, then one paragraph
    per speaker turn (bold speaker label) or, without speakers, per segment."""
    from docx import Document

    document = Document()
    document.add_heading(TITLE, level=1)
    document.add_paragraph(metadata_line(transcript))
    _add_body(document, transcript)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
