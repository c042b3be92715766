"""The transcript: its typed shape, channel merging and output formats."""

from dsac_asr.transcript.formats import OutputFormat, render
from dsac_asr.transcript.merge import label_speaker, merge_channels, speaker_label
from dsac_asr.transcript.model import Segment, SpeakerSpan, Transcript, Word

__all__ = [
    "OutputFormat",
    "Segment",
    "SpeakerSpan",
    "Transcript",
    "Word",
    "label_speaker",
    "merge_channels",
    "render",
    "speaker_label",
]
