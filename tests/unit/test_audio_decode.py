"""Probing and decoding small synthetic files: limits, channels, progress, errors."""

from __future__ import annotations

import struct
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest
from speech import write_wav

from dsac_asr.audio import DecodedAudio, decode, probe
from dsac_asr.audio.decode import _DecodeStats
from dsac_asr.audio.probe import format_bytes, format_seconds
from dsac_asr.config import MediaLimits
from dsac_asr.errors import (
    EmptyMediaError,
    InputError,
    InvalidOptionError,
    MediaTooLargeError,
    MediaTooLongError,
    NotMediaError,
)

LIMITS = MediaLimits()
Samples = npt.NDArray[np.float32]


def tone(hz: float, seconds: float, rate_hz: int, amplitude: float = 0.5) -> Samples:
    t = np.arange(int(seconds * rate_hz)) / rate_hz
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def write_multichannel(path: Path, channels: Samples, rate_hz: int) -> Path:
    """A WAV with any number of channels (no speaker layout)."""
    count = channels.shape[0]
    pcm = (np.clip(channels, -1, 1) * 32767).astype(np.int16)
    with av.open(str(path), "w", format="wav") as container:
        stream = container.add_stream("pcm_s16le", rate=rate_hz, layout=f"{count} channels")
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(pcm.T).reshape(1, -1), format="s16", layout=f"{count} channels"
        )
        frame.sample_rate = rate_hz
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return path


@pytest.fixture
def one_second_8k(tmp_path: Path) -> Path:
    return write_wav(tmp_path / "tone.wav", [tone(440, 1.0, 8000)], 8000)


def test_probe_describes_a_wav(one_second_8k: Path) -> None:
    info = probe(one_second_8k, LIMITS)
    assert (info.format_name, info.codec_name) == ("wav", "pcm_s16le")
    assert (info.sample_rate_hz, info.channels, info.has_video) == (8000, 1, False)
    assert info.duration_s == pytest.approx(1.0)
    assert info.size_bytes == one_second_8k.stat().st_size


def test_decode_resamples_to_the_requested_rate(one_second_8k: Path) -> None:
    audio = decode(one_second_8k, 16000, LIMITS)
    assert audio.samples.shape == (1, 16000)
    assert audio.samples.dtype == np.float32
    assert audio.sample_rate_hz == 16000
    assert audio.duration_s == pytest.approx(1.0)
    spectrum = np.abs(np.fft.rfft(audio.mixed()))
    assert np.argmax(spectrum) == pytest.approx(440, abs=2)  # 1 Hz bins over one second


def test_full_scale_audio_stays_within_one(tmp_path: Path) -> None:
    square = np.sign(tone(1000, 0.5, 8000)).astype(np.float32)
    audio = decode(write_wav(tmp_path / "square.wav", [square], 8000), 44100, LIMITS)
    assert float(np.abs(audio.samples).max()) <= 1.0


def test_channels_are_kept_apart(tmp_path: Path) -> None:
    tones = np.stack([tone(300, 0.5, 16000), tone(700, 0.5, 16000), tone(1100, 0.5, 16000)])
    audio = decode(write_multichannel(tmp_path / "three.wav", tones, 16000), 16000, LIMITS)
    assert audio.channel_count == 3
    for index, hz in enumerate((300, 700, 1100)):
        spectrum = np.abs(np.fft.rfft(audio.channel(index)))
        assert np.argmax(spectrum) * 2 == pytest.approx(hz, abs=4)  # 2 Hz bins


def test_more_than_eight_channels_are_mixed_to_one(tmp_path: Path) -> None:
    levels = np.linspace(-0.5, 0.5, 10, dtype=np.float32)
    channels = np.repeat(levels[:, np.newaxis], 800, axis=1) + 0.25
    path = write_multichannel(tmp_path / "ten.wav", channels, 8000)
    assert probe(path, LIMITS).channels == 10
    audio = decode(path, 8000, LIMITS)
    assert audio.channel_count == 1
    assert np.allclose(audio.samples, channels.mean(), atol=1e-3)


def test_decoded_audio_helpers() -> None:
    samples = np.array([[0.2, 0.4, 0.6, 0.8], [0.0, 0.0, 0.2, 0.2]], dtype=np.float32)
    audio = DecodedAudio(samples, 4)
    assert (audio.channel_count, audio.duration_s) == (2, 1.0)
    assert np.allclose(audio.mixed(), [0.1, 0.2, 0.4, 0.5])
    assert audio.mixed().dtype == np.float32
    assert np.array_equal(audio.channel(1), samples[1])
    with pytest.raises(InvalidOptionError, match="channel 2"):
        audio.channel(2)
    with pytest.raises(InvalidOptionError):
        audio.channel(-1)
    with pytest.raises(ValueError):
        DecodedAudio(samples[0], 4)


def test_progress_rises_to_one(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "long.wav", [tone(200, 5.0, 8000)], 8000)
    progress: list[float] = []
    decode(path, 8000, LIMITS, progress.append)
    assert len(progress) > 5
    assert progress == sorted(progress)
    assert progress[0] > 0.0 and progress[-1] == 1.0


def test_a_failing_progress_callback_stops_decoding_unchanged(one_second_8k: Path) -> None:
    class Cancelled(Exception):
        pass

    def cancel(_fraction: float) -> None:
        raise Cancelled

    with pytest.raises(Cancelled):
        decode(one_second_8k, 8000, LIMITS, cancel)


@pytest.mark.parametrize("rate_hz", [0, 500, 1_000_000])
def test_unreasonable_output_rates_are_refused(one_second_8k: Path, rate_hz: int) -> None:
    with pytest.raises(InvalidOptionError, match="sample rate"):
        decode(one_second_8k, rate_hz, LIMITS)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        probe(tmp_path / "nothing.wav", LIMITS)


def test_folder_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a regular file"):
        decode(tmp_path, 16000, LIMITS)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp3"
    path.write_bytes(b"")
    with pytest.raises(EmptyMediaError, match="empty"):
        probe(path, LIMITS)


def test_wav_without_samples_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "header-only.wav"
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)  # PCM, mono, 8 kHz, 16 bit
    path.write_bytes(
        b"RIFF" + struct.pack("<I", 36) + b"WAVEfmt \x10\x00\x00\x00" + fmt + b"data\0\0\0\0"
    )
    with pytest.raises(EmptyMediaError, match="no audio samples"):
        decode(path, 16000, LIMITS)


def test_size_limit_is_checked_before_opening(tmp_path: Path) -> None:
    path = tmp_path / "big.wav"
    path.write_bytes(b"\x00" * 2000)  # not even media: the size check comes first
    with pytest.raises(MediaTooLargeError, match=r"2\.0 KB, over the limit of 1\.0 KB"):
        probe(path, MediaLimits(max_size_bytes=1000))
    with pytest.raises(NotMediaError):
        probe(path, MediaLimits(max_size_bytes=2000))


def test_declared_duration_over_the_limit(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "two.wav", [tone(440, 2.0, 8000)], 8000)
    with pytest.raises(MediaTooLongError, match=r"lasts 2\.0 s"):
        probe(path, MediaLimits(max_duration_s=1.5))
    assert probe(path, MediaLimits(max_duration_s=2.0)).duration_s == pytest.approx(2.0)


def test_damage_rules() -> None:
    truncated = _DecodeStats()
    for ok in [True] * 9 + [False]:
        truncated.record(ok)
    assert truncated.damaged == 0 and truncated.damaged_fraction == 0.0

    glitched = _DecodeStats()
    for ok in [True, False, True, True, False]:
        glitched.record(ok)
    assert glitched.damaged == 1
    assert glitched.damaged_fraction == pytest.approx(0.2)


def test_sizes_and_durations_read_plainly() -> None:
    assert format_bytes(512) == "512 bytes"
    assert format_bytes(2_500_000) == "2.5 MB"
    assert format_seconds(12.34) == "12.3 s"
    assert format_seconds(4 * 3600 + 61) == "4:01:01"


def test_mix_mode_decodes_to_the_mean_of_the_channels(tmp_path: Path) -> None:
    tones = np.stack([tone(300, 0.5, 16000), tone(700, 0.5, 16000)])
    path = write_multichannel(tmp_path / "two.wav", tones, 16000)
    audio = decode(path, 16000, LIMITS, channel_mode="mix")
    assert audio.channel_count == 1
    assert np.allclose(audio.samples[0], tones.mean(axis=0), atol=1e-3)


def test_channels_over_the_cap_are_mixed_while_decoding(tmp_path: Path) -> None:
    tones = np.stack([tone(300, 0.5, 16000), tone(700, 0.5, 16000), tone(1100, 0.5, 16000)])
    path = write_multichannel(tmp_path / "three.wav", tones, 16000)
    capped = MediaLimits(max_channels=2)
    for mode in ("auto", "separate"):
        audio = decode(path, 16000, capped, channel_mode=mode)
        assert audio.channel_count == 1
        assert np.allclose(audio.samples[0], tones.mean(axis=0), atol=1e-3)


def test_auto_mixes_channels_that_would_not_fit_the_budget(tmp_path: Path) -> None:
    tones = np.stack([tone(300, 1.0, 8000), tone(700, 1.0, 8000)])
    path = write_multichannel(tmp_path / "two.wav", tones, 8000)
    tight = MediaLimits(max_decoded_bytes=8000 * 4 * 3 // 2)  # 1.5 s of one channel
    assert decode(path, 8000, tight, channel_mode="auto").channel_count == 1
    with pytest.raises(MediaTooLongError, match="ask for mixed channels"):
        decode(path, 8000, tight, channel_mode="separate")
    with pytest.raises(MediaTooLongError, match=r"needs 64\.0 KB decoded"):
        decode(path, 16000, tight, channel_mode="mix")
