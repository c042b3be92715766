"""Freed memory handed back to the system between the steps of a long job."""

from __future__ import annotations

import sys

import numpy as np
import numpy.typing as npt
import pytest

from dsac_asr import heap
from dsac_asr.diarization import embeddings
from dsac_asr.diarization.embeddings import DIMENSION, SpeakerEmbedder, frame_blocks


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_on_linux_glibc_trims_its_heaps() -> None:
    trim = heap._malloc_trim()
    assert trim is not None
    heap.release_freed_memory()
    assert trim(0) in (0, 1)  # 1: memory was released, 0: there was none to release


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
