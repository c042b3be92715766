"""Silero VAD over long audio in bounded chunks: the same speech regions, a bounded cost."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from speech import SENTENCES, concatenate_speech

from dsac_asr.engines import regions as regions_module
from dsac_asr.engines.regions import Region, _joined, find_speech

pytestmark = pytest.mark.integration
RATE = 16000


def test_regions_cut_by_a_chunk_end_are_joined() -> None:
    before = [Region(0, 100), Region(5000, 9990)]
    after = [Region(10_010, 12_000), Region(20_000, 21_000)]
    assert _joined(before, after, min_silence=1000) == [
        Region(0, 100),
        Region(5000, 12_000),
        Region(20_000, 21_000),
    ]
    assert _joined(before, [Region(15_000, 16_000)], min_silence=1000)[-1] == Region(15_000, 16_000)
    assert _joined([], after, 1000) == after


def test_chunked_vad_finds_the_same_speech(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [("slt", text) for text in SENTENCES[:6]]
    audio, spans = concatenate_speech(tmp_path, lines, RATE, pause_s=3.0)
    whole = find_speech(audio, RATE)
    monkeypatch.setattr(regions_module, "VAD_CHUNK_SAMPLES", 512 * 150)  # 4.8 s chunks
    chunked = find_speech(audio, RATE)
    assert len(audio) > 5 * 512 * 150
    assert len(chunked) == len(whole) == len(spans)
    for found, expected in zip(chunked, whole, strict=True):
        assert abs(found.start - expected.start) < 0.3 * RATE
        assert abs(found.end - expected.end) < 0.3 * RATE


def test_four_hours_of_silence_cost_a_bounded_amount(monkeypatch: pytest.MonkeyPatch) -> None:
    """The VAD never sees more than a chunk at once (its copies are of a chunk)."""
    seen: list[int] = []
    from faster_whisper import vad

    real = vad.get_speech_timestamps

    def spy(audio: np.ndarray, *args: object, **kwargs: object) -> list[dict[str, int]]:
        seen.append(len(audio))
        return real(audio[:512], *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(vad, "get_speech_timestamps", spy)
    silence = np.zeros(4 * 3600 * RATE, np.float32)
    assert find_speech(silence, RATE) == []
    assert max(seen) == regions_module.VAD_CHUNK_SAMPLES
    assert sum(seen) == len(silence)
