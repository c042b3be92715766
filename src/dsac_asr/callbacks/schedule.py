"""When a callback is tried again: the Standard Webhooks schedule, about a day long.

Attempt 1 goes out when the job ends; after failed attempt ``n`` the next waits
``delays_s[n - 1]`` (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h by default: eight
attempts over about 27.6 hours). A little jitter keeps receivers that came
back from being hit in lockstep.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from dsac_asr.errors import InvalidOptionError

DEFAULT_DELAYS_S = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
JITTER = 0.1


@dataclass(frozen=True)
class RetrySchedule:
    """Delays between attempts, in seconds; ``len(delays_s) + 1`` attempts in all."""

    delays_s: tuple[float, ...] = DEFAULT_DELAYS_S

    @classmethod
    def parse(cls, text: str) -> RetrySchedule:
        """``"5,300,1800"`` -> three delays; ``InvalidOptionError`` unless each is >= 0."""
        try:
            delays = tuple(float(part) for part in text.split(",") if part.strip())
        except ValueError:
            message = f"a retry schedule is seconds separated by commas: {text!r}"
            raise InvalidOptionError(message) from None
        if any(delay < 0 for delay in delays):
            raise InvalidOptionError(f"retry delays must not be negative: {text!r}")
        return cls(delays)

    @property
    def max_attempts(self) -> int:
        """Attempts before an event is given up."""
        return len(self.delays_s) + 1

    @property
    def span_s(self) -> float:
        """From the first attempt to the last, jitter aside."""
        return sum(self.delays_s)

    def delay_after_s(self, attempt: int, rng: random.Random) -> float | None:
        """Seconds to wait after failed attempt ``attempt`` (1-based); None after the last."""
        if not 1 <= attempt <= len(self.delays_s):
            return None
        delay_s = self.delays_s[attempt - 1]
        return delay_s * rng.uniform(1 - JITTER, 1 + JITTER)
