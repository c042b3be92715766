"""Deciding between one transcript per channel and a mono mix, on synthetic audio."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from dsac_asr.audio import DecodedAudio, MediaInfo, channels_differ, choose_separate
from dsac_asr.audio.channels import envelope_correlation
from dsac_asr.errors import InvalidOptionError

RATE = 8000
Samples = npt.NDArray[np.float32]


def talk(seconds: float, turns: list[tuple[float, float]], seed: int) -> Samples:
    """Speech-like noise bursts (syllable-rate modulated) during ``turns``."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    signal = rng.standard_normal(n) * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t)) * 0.2
    gate = np.zeros(n)
    for start, end in turns:
        gate[int(start * RATE) : int(end * RATE)] = 1.0
    return (signal * gate).astype(np.float32)


def audio(*channels: Samples) -> DecodedAudio:
    return DecodedAudio(np.stack(channels).astype(np.float32), RATE)


def info(sample_rate_hz: int, channels: int) -> MediaInfo:
    return MediaInfo("wav", "pcm_s16le", 10.0, sample_rate_hz, channels, 1000, False)


AGENT = talk(10, [(0, 2), (4, 6), (8, 9)], seed=1)
CUSTOMER = talk(10, [(2.2, 3.8), (6.2, 7.8)], seed=2)
BOTH_TALKING = talk(10, [(0, 10)], seed=3)


def test_identical_channels_do_not_differ() -> None:
    assert not channels_differ(audio(AGENT, AGENT.copy()))


def test_near_copies_do_not_differ() -> None:
    noise = np.random.default_rng(9).standard_normal(AGENT.size).astype(np.float32) * 0.01
    assert not channels_differ(audio(AGENT, 0.5 * AGENT + noise))


def test_agent_and_customer_on_separate_channels_differ() -> None:
    assert channels_differ(audio(AGENT, CUSTOMER))


def test_one_silent_channel_differs() -> None:
    assert channels_differ(audio(AGENT, np.zeros_like(AGENT)))


def test_speech_against_faint_hiss_differs() -> None:
    hiss = np.random.default_rng(4).standard_normal(AGENT.size).astype(np.float32) * 1e-3
    assert channels_differ(audio(AGENT, hiss))


def test_two_microphones_hearing_the_same_talker_do_not_differ() -> None:
    delay = 40  # 5 ms between the microphones: waveforms decorrelate, envelopes do not
    far = np.concatenate([np.zeros(delay, np.float32), AGENT[:-delay]]) * 0.6
    hiss = np.random.default_rng(5).standard_normal(AGENT.size).astype(np.float32) * 1e-3
    waveform = float(np.corrcoef(AGENT, far)[0, 1])
    assert waveform < 0.5  # so the envelope test is what decides
    assert not channels_differ(audio(AGENT, far + hiss))


def test_silence_on_both_channels_does_not_differ() -> None:
    silence = np.zeros(RATE, np.float32)
    assert not channels_differ(audio(silence, silence))


def test_mono_never_differs() -> None:
    assert not channels_differ(audio(AGENT))


def test_any_differing_pair_among_several_channels_counts() -> None:
    assert channels_differ(audio(AGENT, AGENT.copy(), CUSTOMER))
    assert not channels_differ(audio(AGENT, AGENT.copy(), AGENT.copy()))


def test_very_short_audio_is_handled() -> None:
    assert not channels_differ(audio(AGENT[:5], AGENT[:5]))
    assert not channels_differ(DecodedAudio(np.zeros((2, 0), np.float32), RATE))


def test_envelope_correlation_of_flat_envelopes() -> None:
    flat, varying = np.full(10, 1e-3), np.linspace(1e-4, 1e-1, 10)
    assert envelope_correlation(flat, flat) == 1.0
    assert envelope_correlation(flat, varying) == 0.0
    assert envelope_correlation(varying, varying) == pytest.approx(1.0)


def test_mix_mode_never_separates() -> None:
    assert not choose_separate("mix", info(8000, 2), audio(AGENT, CUSTOMER))


def test_separate_mode_separates_whenever_there_are_two_channels() -> None:
    assert choose_separate("separate", info(16000, 2), audio(AGENT, AGENT.copy()))
    assert not choose_separate("separate", info(16000, 1), audio(AGENT))


def test_auto_separates_stereo_telephone_audio_even_when_alike() -> None:
    assert choose_separate("auto", info(8000, 2), audio(AGENT, AGENT.copy()))


def test_auto_mixes_alike_broadband_channels() -> None:
    assert not choose_separate("auto", info(16000, 2), audio(BOTH_TALKING, BOTH_TALKING.copy()))
    assert not choose_separate("auto", info(8000, 3), audio(AGENT, AGENT.copy(), AGENT.copy()))


def test_auto_separates_differing_broadband_channels() -> None:
    assert choose_separate("auto", info(44100, 2), audio(AGENT, CUSTOMER))


def test_auto_keeps_mono_mono() -> None:
    assert not choose_separate("auto", info(8000, 1), audio(AGENT))


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(InvalidOptionError, match="'left'"):
        choose_separate("left", info(8000, 2), audio(AGENT, CUSTOMER))
