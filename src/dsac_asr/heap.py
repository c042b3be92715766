"""Giving freed memory back to the system between the steps of a long job.

glibc keeps memory that Python and native libraries have freed in its heaps when
smaller blocks still in use sit above it, so a long recording's many temporary
arrays of a few MB each grow a process by hundreds of MB that nothing uses (4 h
of diarisation: about 0.5 GB). ``malloc_trim`` hands such memory back; elsewhere
(another C library, another system) this does nothing.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from functools import cache


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, when this process has it."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


def release_freed_memory() -> None:
    """Return the heaps' freed memory to the system, where the C library can."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
