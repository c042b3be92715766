"""Giving freed memory back to the system between the steps of a long job.

glibc keeps memory that Python and native libraries have freed in its heaps when
smaller blocks still in use sit above it, so a long recording's many temporary
arrays of a few MB each grow a process by hundreds of MB that nothing uses (4 h
of diarisation: about 0.5 GB). ``malloc_trim`` hands such memory back; elsewhere
(another C library, another system) this does nothing.

glibc also raises its threshold for serving a block from ``mmap`` each time such
a block is freed (up to 32 MiB), after which the many arrays of a few MB that
diarisation allocates land in the heaps, where one small block still in use
keeps them all, and recognition after it grows the process further. Inside
``large_blocks_mapped`` the threshold is ``MMAP_THRESHOLD_BYTES``: those arrays
stay mapped and freeing one returns it at once. The pipeline does so only for long
recordings with speakers: mapping afresh costs page faults, and Whisper's
decoding, which reuses its buffers, ran about 10% slower with it.
"""

from __future__ import annotations

import ctypes
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache

MMAP_THRESHOLD_BYTES = 4 * 1024 * 1024
SETTLED_THRESHOLD_BYTES = 32 * 1024 * 1024
"""Where glibc's own threshold would settle (its ceiling on 64-bit systems)."""
_M_MMAP_THRESHOLD = -3  # glibc's malloc.h


@cache
def _glibc(name: str) -> Callable[..., int] | None:
    """glibc's function ``name``, when this process has it."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        found: Callable[..., int] = getattr(ctypes.CDLL("libc.so.6"), name)
    except (OSError, AttributeError):
        return None
    return found


def set_mmap_threshold(size: int) -> bool:
    """Serve every block of ``size`` bytes or more from ``mmap`` from now on;
    True where the C library agreed."""
    option = _glibc("mallopt")
    return option is not None and option(_M_MMAP_THRESHOLD, size) == 1


_inside = 0
_inside_lock = threading.Lock()


@contextmanager
def large_blocks_mapped() -> Iterator[None]:
    """Blocks of ``MMAP_THRESHOLD_BYTES`` or more are mapped while any thread is
    inside; when the last one leaves, the threshold goes to ``SETTLED_THRESHOLD_BYTES``."""
    global _inside
    with _inside_lock:
        _inside += 1
        if _inside == 1:
            set_mmap_threshold(MMAP_THRESHOLD_BYTES)
    try:
        yield
    finally:
        with _inside_lock:
            _inside -= 1
            if _inside == 0:
                set_mmap_threshold(SETTLED_THRESHOLD_BYTES)


def release_freed_memory() -> None:
    """Return the heaps' freed memory to the system, where the C library can."""
    trim = _glibc("malloc_trim")
    if trim is not None:
        trim(0)
