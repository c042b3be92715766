"""Freed memory handed back to the system between the steps of a long job."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import numpy.typing as npt
import pytest

from dsac_asr import heap
from dsac_asr.diarization import embeddings
from dsac_asr.diarization.embeddings import DIMENSION, SpeakerEmbedder, frame_blocks


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_on_linux_glibc_trims_its_heaps() -> None:
    trim = heap._glibc("malloc_trim")
    assert trim is not None
    heap.release_freed_memory()
    assert trim(0) in (0, 1)  # 1: memory was released, 0: there was none to release


# Large blocks freed while smaller ones allocated after them are still in use: the
# pattern of a long job's temporary arrays. Prints the memory they leave behind, in MiB.
_FRAGMENTING = """
import ctypes, sys
from dsac_asr import heap
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
def resident():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20
def fragment():
    before = resident()
    libc.free(libc.malloc(8 * 2**20))  # raises glibc's own threshold past the blocks below
    bigs, smalls = [], []
    for _ in range(40):
        big = libc.malloc(6 * 2**20)
        ctypes.memset(big, 1, 6 * 2**20)
        bigs.append(big)
        smalls.append(libc.malloc(300_000))
    for big in bigs:
        libc.free(big)
    return resident() - before
if sys.argv[1] == "inside":
    with heap.large_blocks_mapped():
        print(fragment())
else:
    if sys.argv[1] == "after":
        with heap.large_blocks_mapped():
            pass
    print(fragment())
"""


def _left_behind_mib(mode: str) -> float:
    done = subprocess.run(
        [sys.executable, "-c", _FRAGMENTING, mode], capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_large_blocks_are_given_back_when_freed_only_while_kept_mapped() -> None:
    assert _left_behind_mib("default") > 200  # 240 MiB freed, kept in the heap
    assert _left_behind_mib("inside") < 30
    assert _left_behind_mib("after") > 200  # 6 MiB is under the settled threshold


def test_the_threshold_settles_only_when_the_last_thread_leaves(
    mmap_thresholds: list[object],
) -> None:
    with heap.large_blocks_mapped():
        with heap.large_blocks_mapped():
            pass
        assert mmap_thresholds == [heap.MMAP_THRESHOLD_BYTES]
    assert mmap_thresholds == [heap.MMAP_THRESHOLD_BYTES, heap.SETTLED_THRESHOLD_BYTES]


def test_embedding_gives_memory_back_after_each_block(monkeypatch: pytest.MonkeyPatch) -> None:
    released: list[int] = []
    monkeypatch.setattr(embeddings, "release_freed_memory", lambda: released.append(1))
    monkeypatch.setattr(embeddings, "BLOCK_FRAMES", 1000)
    audio = np.zeros(60 * 16000, dtype=np.float32)
    selections = [np.arange(s, s + 300, dtype=np.int64) for s in range(0, 5500, 500)]

    def constant(features: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        return np.ones((len(features), DIMENSION), dtype=np.float32)

    SpeakerEmbedder(constant).embed_audio(audio, selections)
    assert len(released) == len(frame_blocks(selections, 1000)) > 1
