"""Stretches of time and speaker turns."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """A stretch of time in seconds."""

    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return self.end_s - self.start_s


@dataclass(frozen=True)
class SpeakerTurn(Span):
    """A stretch of time one speaker talks in; ``speaker`` is a label such as ``A``."""

    speaker: str = ""
