"""How many channels decoding keeps, and the memory decoded samples may take.

Decoded audio is float32: ``duration * rate * channels * 4`` bytes. Before a
sample is decoded, the declared duration is priced at the output rate and
the channels to keep, and a file that would need more than
``MediaLimits.max_decoded_bytes`` is refused (:class:`MediaTooLongError`);
the same budget is enforced again on the samples actually decoded, so a
header that understates the duration does not get past it.

Channels are kept apart only when they may be recognised apart: mode
``"mix"`` decodes straight to one channel (the mean of all), as does a file
with more channels than ``MediaLimits.max_channels``; mode ``"auto"`` falls
back to one channel when keeping them all would not fit the budget, while
``"separate"`` is refused then (the client asked for every channel).

Jobs that run together in one process (a worker's batch) share one budget
(:class:`SharedBudget`): each reserves its decoded size and its working memory
before decoding, so long files take turns instead of being held all at once.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from dsac_asr.audio.probe import format_bytes, format_seconds
from dsac_asr.config import MediaLimits
from dsac_asr.errors import InvalidOptionError, MediaTooLongError

CHANNEL_MODES = ("auto", "mix", "separate")
"""Accepted channel modes: decide from the audio, mix to mono, or one result per channel."""

BYTES_PER_SAMPLE = 4
"""Decoded samples are float32."""


def decoded_bytes(duration_s: float, sample_rate_hz: int, channels: int) -> int:
    """The bytes ``duration_s`` of audio takes decoded at ``sample_rate_hz`` in ``channels``."""
    return math.ceil(duration_s * sample_rate_hz) * channels * BYTES_PER_SAMPLE


def check_mode(mode: str) -> None:
    """Refuse a channel mode other than those of :data:`CHANNEL_MODES`."""
    if mode not in CHANNEL_MODES:
        raise InvalidOptionError(
            f"unknown channel mode {mode!r}: expected one of {', '.join(CHANNEL_MODES)}"
        )


def output_channels(
    mode: str,
    source_channels: int,
    duration_s: float | None,
    sample_rate_hz: int,
    limits: MediaLimits,
) -> int:
    """How many channels to decode to: ``source_channels``, or 1 (mixed while decoding).

    Raises :class:`MediaTooLongError` when even that does not fit the budget
    at the declared ``duration_s`` (``None``: unknown, checked while decoding).
    """
    check_mode(mode)
    keep = 1 if mode == "mix" or source_channels > limits.max_channels else source_channels
    if keep > 1 and mode == "auto" and not _fits(duration_s, sample_rate_hz, keep, limits):
        keep = 1
    if duration_s is not None:
        check_budget(duration_s, sample_rate_hz, keep, limits)
    return keep


def _fits(duration_s: float | None, rate_hz: int, channels: int, limits: MediaLimits) -> bool:
    """Whether the declared duration (unknown counts as fitting) fits the budget."""
    if duration_s is None:
        return True
    return decoded_bytes(duration_s, rate_hz, channels) <= limits.max_decoded_bytes


def check_budget(
    duration_s: float, sample_rate_hz: int, channels: int, limits: MediaLimits
) -> None:
    """Raise :class:`MediaTooLongError` when the decoded audio would pass the budget."""
    needed = decoded_bytes(duration_s, sample_rate_hz, channels)
    if needed > limits.max_decoded_bytes:
        raise MediaTooLongError(budget_message(duration_s, sample_rate_hz, channels, limits))


def budget_message(
    duration_s: float, sample_rate_hz: int, channels: int, limits: MediaLimits
) -> str:
    """Why audio of this length, rate and channel count is refused, in plain words."""
    needed = decoded_bytes(duration_s, sample_rate_hz, channels)
    hint = "ask for mixed channels or send" if channels > 1 else "send"
    return (
        f"{format_seconds(duration_s)} of audio in {channels} channel(s) at {sample_rate_hz} Hz "
        f"needs {format_bytes(needed)} decoded, over the limit of "
        f"{format_bytes(limits.max_decoded_bytes)}: {hint} a shorter recording"
    )


def max_samples(sample_rate_hz: int, channels: int, limits: MediaLimits) -> int:
    """The most samples per channel decoding may keep (duration limit and budget)."""
    by_duration = math.floor(limits.max_duration_s * sample_rate_hz)
    by_budget = limits.max_decoded_bytes // (channels * BYTES_PER_SAMPLE)
    return min(by_duration, by_budget)


WORKING_BYTES = 256 * 1024 * 1024
"""A job's memory beyond its decoded samples, at most (the VAD's copies of 30 min,
recognition's group of windows): reserved with the samples, up to their own size."""


def job_bytes(decoded: int | None, limits: MediaLimits) -> int:
    """What a job reserves of its process's budget: its decoded size (the whole budget
    when the duration is unknown) and as much again for working memory, up to
    ``WORKING_BYTES``."""
    samples = limits.max_decoded_bytes if decoded is None else decoded
    return samples + min(samples, WORKING_BYTES)


class SharedBudget:
    """Bytes that the jobs of one process may hold at once (thread-safe). A job larger
    than the whole budget takes all of it: alone, it still runs."""

    def __init__(self, capacity: int, poll_s: float = 1.0) -> None:
        self.capacity, self.poll_s = capacity, poll_s
        self._used = 0
        self._changed = threading.Condition()

    @property
    def used(self) -> int:
        """Bytes reserved now."""
        return self._used

    @contextmanager
    def reserved(self, wanted: int, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
        """Hold ``wanted`` bytes (at most the capacity) while the block runs, first
        waiting for others to give back enough; ``on_wait`` is called every ``poll_s``
        while waiting (an error it raises ends the wait)."""
        wanted = min(wanted, self.capacity)
        while not self._take(wanted):
            if on_wait is not None:
                on_wait()
        try:
            yield
        finally:
            with self._changed:
                self._used -= wanted
                self._changed.notify_all()

    def _take(self, wanted: int) -> bool:
        """Reserve ``wanted`` if it fits now or within ``poll_s``."""
        with self._changed:
            if self._used + wanted > self.capacity:
                self._changed.wait(self.poll_s)
            if self._used + wanted > self.capacity:
                return False
            self._used += wanted
            return True
