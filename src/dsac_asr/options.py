"""What one transcription asks for: the one options type from the API to the pipeline.

The CLI builds it from its flags; a job's options (``jobs.model.JobOptions``)
are this type plus the service's own fields, stored as they are and handed to
the pipeline as they are, with no copy in between.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_PROMPT_CHARS = 1000
"""The longest ``prompt`` accepted (Whisper keeps at most 223 tokens of its prompt, the last)."""


@dataclass(frozen=True)
class TranscriptionOptions:
    """Language, band, channel handling, domain or model, punctuation, speakers, and
    Whisper's decoding prompt and temperature (Kaldi and CTC engines ignore those two)."""

    language: str = "eng"
    band: str = "auto"
    channels: str = "auto"
    domain: str | None = None
    model: str | None = None  # a model id; None lets routing choose
    punctuate: bool = True
    diarize: bool = False
    speakers: int | None = None  # with diarize: the known count; None estimates it
    prompt: str | None = None  # Whisper: text that conditions decoding (spellings, names, style)
    temperature: float | None = None  # Whisper: 0..1 sampling temperature; None: the default
