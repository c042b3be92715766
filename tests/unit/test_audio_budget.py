"""The decoding memory budget: the arithmetic, the channel rules, and the sample sink."""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import pytest

from dsac_asr.audio.budget import (
    check_budget,
    decoded_bytes,
    max_samples,
    output_channels,
)
from dsac_asr.config import MediaLimits, Settings
from dsac_asr.errors import InvalidOptionError, MediaTooLongError

decode_module = importlib.import_module("dsac_asr.audio.decode")  # the package exports decode()
GIB = 1024**3
HOURS_4 = 4 * 3600.0
LIMITS = MediaLimits(max_channels=2, max_decoded_bytes=GIB)


def test_decoded_bytes_is_samples_times_channels_times_four() -> None:
    assert decoded_bytes(1.0, 16000, 1) == 64_000
    assert decoded_bytes(HOURS_4, 16000, 1) == 921_600_000
    assert decoded_bytes(HOURS_4, 16000, 8) == 7_372_800_000  # the silence bomb, 8 channels
    assert decoded_bytes(0.5, 8000, 2) == 32_000
    assert decoded_bytes(1 / 3, 16000, 1) == 21_336  # a partial sample counts whole


def test_the_default_budget_holds_four_hours_of_mono_or_telephone_stereo() -> None:
    limits = Settings(_env_file=None).media_limits
    assert limits.max_channels == 2
    assert limits.max_decoded_bytes == GIB
    check_budget(HOURS_4, 16000, 1, limits)
    check_budget(HOURS_4, 8000, 2, limits)
    with pytest.raises(MediaTooLongError):
        check_budget(HOURS_4, 16000, 2, limits)


def test_mix_decodes_to_one_channel() -> None:
    assert output_channels("mix", 2, 10.0, 16000, LIMITS) == 1


def test_channels_within_the_cap_are_kept() -> None:
    assert output_channels("auto", 2, 10.0, 16000, LIMITS) == 2
    assert output_channels("separate", 2, 10.0, 16000, LIMITS) == 2
    assert output_channels("auto", 1, 10.0, 16000, LIMITS) == 1


def test_channels_over_the_cap_are_mixed_in_every_mode() -> None:
    for mode in ("auto", "mix", "separate"):
        assert output_channels(mode, 8, HOURS_4, 16000, LIMITS) == 1


def test_auto_falls_back_to_one_channel_when_all_would_not_fit() -> None:
    assert output_channels("auto", 2, HOURS_4, 16000, LIMITS) == 1
    assert output_channels("auto", 2, HOURS_4, 8000, LIMITS) == 2


def test_separate_channels_that_do_not_fit_are_refused_plainly() -> None:
    with pytest.raises(MediaTooLongError) as caught:
        output_channels("separate", 2, HOURS_4, 16000, LIMITS)
    message = caught.value.message
    assert "4:00:00 of audio in 2 channel(s) at 16000 Hz needs 1.8 GB" in message
    assert "over the limit of 1.1 GB" in message
    assert "mixed channels" in message
    assert caught.value.code == "media_too_long"


def test_even_one_channel_can_be_over_the_budget() -> None:
    small = MediaLimits(max_decoded_bytes=64_000 * 60)  # one minute at 16 kHz
    assert output_channels("mix", 1, 60.0, 16000, small) == 1
    with pytest.raises(MediaTooLongError, match="send a shorter recording"):
        output_channels("mix", 1, 61.0, 16000, small)


def test_an_unknown_duration_is_checked_while_decoding() -> None:
    assert output_channels("separate", 2, None, 16000, LIMITS) == 2


def test_unknown_modes_are_refused() -> None:
    with pytest.raises(InvalidOptionError, match="unknown channel mode"):
        output_channels("left", 2, 10.0, 16000, LIMITS)


def test_max_samples_is_the_tighter_of_duration_and_budget() -> None:
    assert max_samples(16000, 1, LIMITS) == int(HOURS_4 * 16000)  # the 4 h limit
    assert max_samples(16000, 2, LIMITS) == GIB // 8  # the budget: 2.3 h of stereo
    assert max_samples(48000, 1, LIMITS) == GIB // 4  # the budget: 1.55 h at 48 kHz


def _sink(channels: int, limits: MediaLimits) -> Any:
    shape = decode_module._SinkShape(100, channels)
    return decode_module._SampleSink(shape, limits, None, None)


def test_the_sink_joins_blocks_in_order_and_clips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decode_module, "BLOCK_SAMPLES", 7)
    sink = _sink(2, LIMITS)
    signal = np.stack([np.arange(30), -np.arange(30)]).astype(np.float32) / 20
    for start in range(0, 30, 4):  # chunks that straddle block ends
        sink.add(signal[:, start : start + 4])
    assert sink.total == 30
    assert len(sink._blocks) == 5
    joined = sink.samples()
    assert np.array_equal(joined, np.clip(signal, -1.0, 1.0))
    assert joined.flags.c_contiguous
    assert sink._blocks == []


def test_the_sink_enforces_the_budget_on_decoded_samples() -> None:
    sink = _sink(2, MediaLimits(max_decoded_bytes=2 * 4 * 250))  # 250 samples of 2 channels
    sink.add(np.zeros((2, 200), np.float32))
    with pytest.raises(MediaTooLongError, match=r"2 channel\(s\) at 100 Hz"):
        sink.add(np.zeros((2, 100), np.float32))


def test_the_sink_enforces_the_duration_on_decoded_samples() -> None:
    sink = _sink(1, MediaLimits(max_duration_s=2.0))
    sink.add(np.zeros((1, 200), np.float32))
    with pytest.raises(MediaTooLongError, match=r"lasts longer than the limit of 2\.0 s"):
        sink.add(np.zeros((1, 1), np.float32))


def test_a_mono_sink_mixes_a_chunk_with_more_channels() -> None:
    sink = _sink(1, LIMITS)
    sink.add(np.array([[0.2, 0.4], [0.4, 0.0]], np.float32))
    assert np.allclose(sink.samples(), [[0.3, 0.2]])
