"""The typed transcript: words with timings, confidences and speakers, and who spoke when."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Word:
    """One recognised word. ``speaker`` is ``None`` when speakers are unknown."""

    text: str
    start_s: float
    end_s: float
    confidence: float
    speaker: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class Segment:
    """A run of words the engine produced together (a phrase or sentence)."""

    words: tuple[Word, ...]
    text: str
    speaker: str | None = None

    @property
    def start_s(self) -> float:
        """Start of the first word (0.0 for an empty segment)."""
        return self.words[0].start_s if self.words else 0.0

    @property
    def end_s(self) -> float:
        """End of the last word (0.0 for an empty segment)."""
        return self.words[-1].end_s if self.words else 0.0


@dataclass(frozen=True)
class SpeakerSpan:
    """A stretch of time one speaker talks in (a diarisation turn), labelled like the words."""

    start_s: float
    end_s: float
    speaker: str

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return self.end_s - self.start_s


@dataclass(frozen=True)
class Transcript:
    """A whole transcript plus what produced it.

    ``speaker_turns`` is who speaks when, in time order, from diarisation (or
    from each channel's speech when channels are recognised separately); it
    may be empty when no speech was found, and is ``None`` when speakers were
    not determined. Turns may overlap when two people speak at once.
    """

    segments: tuple[Segment, ...]
    language: str
    model_id: str
    duration_s: float
    metadata: dict[str, str] = field(default_factory=dict)
    speaker_turns: tuple[SpeakerSpan, ...] | None = None

    @property
    def words(self) -> list[Word]:
        """All words in time order."""
        return [word for segment in self.segments for word in segment.words]

    @property
    def text(self) -> str:
        """The plain transcript text, segments joined by spaces."""
        return " ".join(s.text for s in self.segments if s.text)

    @property
    def confidence(self) -> float:
        """Mean word confidence (0.0 when there are no words)."""
        words = self.words
        return sum(w.confidence for w in words) / len(words) if words else 0.0

    @property
    def speakers(self) -> list[str]:
        """Speaker labels in order of first appearance."""
        seen: dict[str, None] = {}
        for word in self.words:
            if word.speaker is not None:
                seen.setdefault(word.speaker, None)
        return list(seen)
