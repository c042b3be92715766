"""The numpy log-mel filterbank gives kaldi-native-fbank's values (CAM++'s options)."""

from __future__ import annotations

import numpy as np
import pytest

from dsac_asr.diarization import fbank
from dsac_asr.diarization.fbank import SAMPLE_RATE_HZ, log_mel_filterbank


def _kaldi(audio: np.ndarray) -> np.ndarray:  # type: ignore[type-arg]
    knf = pytest.importorskip("kaldi_native_fbank")
    options = knf.FbankOptions()
    options.frame_opts.dither = 0.0
    options.frame_opts.samp_freq = SAMPLE_RATE_HZ
    options.mel_opts.num_bins = 80
    fbank = knf.OnlineFbank(options)
    fbank.accept_waveform(SAMPLE_RATE_HZ, audio)
    fbank.input_finished()
    frames = [fbank.get_frame(i) for i in range(fbank.num_frames_ready)]
    return np.asarray(frames, dtype=np.float32).reshape(-1, 80)


def _voice_like(samples: int, seed: int) -> np.ndarray:  # type: ignore[type-arg]
    rng = np.random.default_rng(seed)
    t = np.arange(samples) / SAMPLE_RATE_HZ
    tones = sum(np.sin(2 * np.pi * f * t) / k for k, f in enumerate((140, 280, 420, 2500), 1))
    return np.asarray(0.1 * tones + 0.01 * rng.normal(size=samples), dtype=np.float32)


@pytest.mark.parametrize("samples", [400, 401, 560, 16000, 3 * 16000 + 77])
def test_the_same_frames_and_values_as_kaldi(samples: int) -> None:
    audio = _voice_like(samples, samples)
    expected = _kaldi(audio)
    found = log_mel_filterbank(audio, 80)
    assert found.shape == expected.shape == (1 + (samples - 400) // 160, 80)
    assert found.dtype == np.float32
    assert np.abs(found - expected).max() < 1e-3


def test_silence_is_floored_and_too_short_audio_has_no_frames() -> None:
    silent = log_mel_filterbank(np.zeros(16000, dtype=np.float32), 80)
    assert np.allclose(silent, np.log(np.finfo(np.float32).eps))
    assert np.allclose(silent, _kaldi(np.zeros(16000, dtype=np.float32)), atol=1e-3)
    assert log_mel_filterbank(np.zeros(399, dtype=np.float32), 80).shape == (0, 80)


def test_frames_computed_a_block_at_a_time_equal_those_computed_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    audio = _voice_like(3 * SAMPLE_RATE_HZ + 123, seed=7)
    at_once = log_mel_filterbank(audio, 80)
    monkeypatch.setattr(fbank, "BLOCK_FRAMES", 7)  # 299 frames: 42 full blocks and a part
    in_blocks = log_mel_filterbank(audio, 80)
    assert at_once.shape == in_blocks.shape == (299, 80)
    # The same frames: a block misplaced by even one sample would differ by far more.
    # Not bit for bit: BLAS may sum a (7, n) product in another order than a (299, n)
    # one (OpenBLAS 0.3.31 does, by one float32 step in the last place).
    np.testing.assert_allclose(in_blocks, at_once, rtol=0, atol=1e-5)
