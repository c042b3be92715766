"""Speaker turns: consecutive segments of one speaker, shown as one paragraph."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dsac_asr.transcript.model import Segment


@dataclass(frozen=True)
class Turn:
    """Consecutive segments spoken by one speaker (``None`` when unknown)."""

    speaker: str | None
    segments: tuple[Segment, ...]

    @property
    def text(self) -> str:
        """The turn's segment texts joined by spaces."""
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())


def segment_speaker(segment: Segment) -> str | None:
    """The segment's speaker, else the first speaker among its words, else ``None``."""
    if segment.speaker is not None:
        return segment.speaker
    return next((w.speaker for w in segment.words if w.speaker is not None), None)


def has_speakers(segments: Sequence[Segment]) -> bool:
    """Whether any segment has a known speaker."""
    return any(segment_speaker(segment) is not None for segment in segments)


def speaker_turns(segments: Sequence[Segment]) -> list[Turn]:
    """Group consecutive non-empty segments of the same speaker into turns."""
    turns: list[Turn] = []
    for segment in segments:
        if not segment.text.strip():
            continue
        speaker = segment_speaker(segment)
        if turns and turns[-1].speaker == speaker:
            turns[-1] = Turn(speaker, (*turns[-1].segments, segment))
        else:
            turns.append(Turn(speaker, (segment,)))
    return turns
