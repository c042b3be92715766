"""Embedding windows inside speech, and speaker turns back from labelled windows.

A window is a stretch of speech short enough to hold one voice and long
enough for a stable voice embedding. Windows overlap; each moment of speech
belongs to the window whose centre is nearest, which turns a sequence of
labelled windows into speaker turns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WINDOW_S = 1.5
HOP_S = 0.75
MIN_WINDOW_S = 0.4
"""Speech shorter than this (a cough, a click) gets no window of its own."""


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
class Window(Span):
    """An embedding window and the speech region (its index) it lies in."""

    region: int = 0

    @property
    def centre_s(self) -> float:
        """The middle of the window."""
        return (self.start_s + self.end_s) / 2


@dataclass(frozen=True)
class SpeakerTurn(Span):
    """A stretch of time one speaker talks in; ``speaker`` is a label such as ``A``."""

    speaker: str = ""


def speech_windows(
    regions: Sequence[Span],
    window_s: float = WINDOW_S,
    hop_s: float = HOP_S,
    min_window_s: float = MIN_WINDOW_S,
) -> list[Window]:
    """Windows of ``window_s`` every ``hop_s`` inside each region; the last one
    ends at the region's end, and a region shorter than a window is one window."""
    windows: list[Window] = []
    for index, region in enumerate(regions):
        if region.duration_s < min_window_s:
            continue
        windows.extend(_region_windows(region, index, window_s, hop_s))
    return windows


def _region_windows(region: Span, index: int, window_s: float, hop_s: float) -> list[Window]:
    if region.duration_s <= window_s:
        return [Window(region.start_s, region.end_s, index)]
    count = 1 + int((region.duration_s - window_s) // hop_s)
    starts = [region.start_s + i * hop_s for i in range(count)]
    if starts[-1] + window_s < region.end_s - 1e-6:
        starts.append(region.end_s - window_s)
    return [Window(start, start + window_s, index) for start in starts]


def windows_to_turns(
    windows: Sequence[Window], labels: Sequence[str], regions: Sequence[Span]
) -> list[SpeakerTurn]:
    """Speaker turns: each region cut halfway between neighbouring window centres,
    each piece taking its window's label, neighbouring pieces of one label joined."""
    turns: list[SpeakerTurn] = []
    for i, (window, label) in enumerate(zip(windows, labels, strict=True)):
        region = regions[window.region]
        before = windows[i - 1] if i > 0 and windows[i - 1].region == window.region else None
        after = windows[i + 1] if i + 1 < len(windows) else None
        after = after if after is not None and after.region == window.region else None
        start_s = (before.centre_s + window.centre_s) / 2 if before else region.start_s
        end_s = (window.centre_s + after.centre_s) / 2 if after else region.end_s
        _append(turns, SpeakerTurn(start_s, end_s, label))
    return turns


def _append(turns: list[SpeakerTurn], turn: SpeakerTurn) -> None:
    """Add ``turn``, joined to the last one when they are one speaker's and touch."""
    last = turns[-1] if turns else None
    if last is not None and last.speaker == turn.speaker and turn.start_s - last.end_s < 1e-6:
        turns[-1] = SpeakerTurn(last.start_s, turn.end_s, last.speaker)
    else:
        turns.append(turn)
