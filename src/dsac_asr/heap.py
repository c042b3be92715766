"""Giving freed memory back to the system between the steps of a long job.

glibc keeps memory that Python and native libraries have freed in its heaps when
smaller blocks still in use sit above it, so a long recording's many temporary
arrays of a few MB each grow a process by hundreds of MB that nothing uses (4 h
of diarisation: about 0.5 GB). ``malloc_trim`` hands such memory back; elsewhere
(another C library, another system) this does nothing.

glibc also raises its threshold for serving a block from ``mmap`` each time such
a block is freed (up to 32 MB), after which the many arrays of a few MB that a
long job allocates land in the heaps, where one small block still in use keeps
them all. Fixing the threshold at ``MMAP_THRESHOLD_BYTES`` keeps those arrays
mapped, so freeing one returns it at once.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from functools import cache

MMAP_THRESHOLD_BYTES = 4 * 1024 * 1024
_M_MMAP_THRESHOLD = -3  # glibc's malloc.h


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


@cache
def _mallopt() -> Callable[[int, int], int] | None:
    """glibc's ``mallopt``, when this process has it."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        option: Callable[[int, int], int] = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return None
    return option


def keep_large_blocks_mapped() -> bool:
    """Serve every block of ``MMAP_THRESHOLD_BYTES`` or more from ``mmap`` from
    now on, so that freeing it gives it back; True where the C library agreed."""
    option = _mallopt()
    return option is not None and option(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1


def release_freed_memory() -> None:
    """Return the heaps' freed memory to the system, where the C library can."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
