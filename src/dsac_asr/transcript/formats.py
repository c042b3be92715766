"""The output formats a transcript can be fetched in, and one entry point to render them."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from dsac_asr.errors import InvalidOptionError
from dsac_asr.transcript.ctm import DEFAULT_UTTERANCE_ID, render_ctm
from dsac_asr.transcript.document import render_docx
from dsac_asr.transcript.model import Transcript
from dsac_asr.transcript.plain_text import render_txt
from dsac_asr.transcript.result_json import render_json
from dsac_asr.transcript.rttm import render_rttm
from dsac_asr.transcript.subtitles import render_srt, render_vtt

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class OutputFormat(StrEnum):
    """A transcript output format; its value is the name clients ask for."""

    JSON = "json"
    TXT = "txt"
    SRT = "srt"
    VTT = "vtt"
    CTM = "ctm"
    RTTM = "rttm"
    DOCX = "docx"

    @classmethod
    def parse(cls, name: str) -> OutputFormat:
        """The format called ``name`` (case-insensitive, a leading dot allowed).

        Raises ``InvalidOptionError`` naming the accepted formats otherwise.
        """
        try:
            return cls(name.strip().lower().removeprefix("."))
        except ValueError:
            accepted = ", ".join(fmt.value for fmt in cls)
            raise InvalidOptionError(
                f"unknown output format {name!r}; accepted: {accepted}"
            ) from None

    @property
    def media_type(self) -> str:
        """The HTTP ``Content-Type`` for this format."""
        return _MEDIA_TYPES[self]

    @property
    def extension(self) -> str:
        """The file-name extension, with its dot (``.json``)."""
        return f".{self.value}"

    @property
    def is_binary(self) -> bool:
        """Whether the rendered bytes are not UTF-8 text."""
        return self is OutputFormat.DOCX


_MEDIA_TYPES = {
    OutputFormat.JSON: "application/json",
    OutputFormat.TXT: "text/plain; charset=utf-8",
    OutputFormat.SRT: "application/x-subrip",
    OutputFormat.VTT: "text/vtt",
    OutputFormat.CTM: "text/plain; charset=utf-8",
    OutputFormat.RTTM: "text/plain; charset=utf-8",
    OutputFormat.DOCX: DOCX_MEDIA_TYPE,
}

_TEXT_RENDERERS: dict[OutputFormat, Callable[[Transcript], str]] = {
    OutputFormat.JSON: render_json,
    OutputFormat.TXT: render_txt,
    OutputFormat.SRT: render_srt,
    OutputFormat.VTT: render_vtt,
}


def render(
    transcript: Transcript, fmt: OutputFormat, *, recording_id: str = DEFAULT_UTTERANCE_ID
) -> bytes:
    """``transcript`` rendered in ``fmt``; text formats are encoded as UTF-8.

    ``recording_id`` names the recording: the utterance column of CTM and the
    file column of RTTM (the CLI passes the input's stem, the API the job id);
    other formats ignore it. RTTM raises ``InvalidOptionError`` for a
    transcript without speaker turns.
    """
    if fmt is OutputFormat.DOCX:
        return render_docx(transcript)
    if fmt is OutputFormat.CTM:
        return render_ctm(transcript, utterance_id=recording_id).encode("utf-8")
    if fmt is OutputFormat.RTTM:
        return render_rttm(transcript, file_id=recording_id).encode("utf-8")
    return _TEXT_RENDERERS[fmt](transcript).encode("utf-8")
