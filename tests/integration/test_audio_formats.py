"""Probing and decoding real encoded speech, and refusing bad input, with PyAV."""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest
from speech import read_mono, speak, write_wav

from dsac_asr.audio import channels_differ, choose_separate, decode, probe
from dsac_asr.audio.probe import open_container
from dsac_asr.config import MediaLimits
from dsac_asr.errors import (
    CorruptMediaError,
    DsacError,
    EmptyMediaError,
    ForbiddenFormatError,
    InputError,
    MediaTooLargeError,
    MediaTooLongError,
    NoAudioStreamError,
    NotMediaError,
)

pytestmark = pytest.mark.integration

RATE = 16000
LIMITS = MediaLimits()
Samples = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Encoding:
    """How to encode a test file: container, audio codec and optional video codec."""

    name: str
    container: str
    codec: str
    rate_hz: int
    expected_codec: str
    expected_format: str
    layout: str = "mono"
    video: str | None = None


ENCODINGS = [
    Encoding("pcm.wav", "wav", "pcm_s16le", 16000, "pcm_s16le", "wav"),
    Encoding("mulaw.wav", "wav", "pcm_mulaw", 8000, "pcm_mulaw", "wav"),
    Encoding("alaw.wav", "wav", "pcm_alaw", 8000, "pcm_alaw", "wav"),
    Encoding("speech.mp3", "mp3", "libmp3lame", 16000, "mp3", "mp3"),
    Encoding("speech.m4a", "mp4", "aac", 16000, "aac", "mov"),
    Encoding("speech.opus", "ogg", "libopus", 48000, "opus", "ogg"),
    Encoding("speech.ogg", "ogg", "vorbis", 16000, "vorbis", "ogg", layout="stereo"),
    Encoding("speech.flac", "flac", "flac", 16000, "flac", "flac"),
    Encoding("speech.amr", "amr", "libopencore_amrnb", 8000, "amr_nb", "amr"),
    Encoding("h264.mp4", "mp4", "aac", 16000, "aac", "mov", video="libx264"),
    Encoding("mpeg4.mp4", "mp4", "aac", 16000, "aac", "mov", video="mpeg4"),
    Encoding("video.mkv", "matroska", "libmp3lame", 16000, "mp3", "matroska", video="mpeg4"),
    Encoding("video.webm", "webm", "libopus", 48000, "opus", "matroska", video="libvpx"),
]


def encode_audio(
    path: Path,
    channels: Samples,
    source_rate_hz: int,
    encoding: Encoding,
    muxer_options: dict[str, str] | None = None,
) -> Path:
    """Encode ``channels`` (shape (channels, n)) into ``path`` as ``encoding`` says."""
    with av.open(str(path), "w", format=encoding.container, options=muxer_options) as out:
        stream = out.add_stream(encoding.codec, rate=encoding.rate_hz, layout=encoding.layout)
        if encoding.codec == "vorbis":
            stream.codec_context.options = {"strict": "experimental"}
        video = _add_video(out, encoding.video)
        for packet in _audio_packets(stream, channels, source_rate_hz, encoding):
            out.mux(packet)
        if video is not None:
            _write_video(out, video, channels.shape[1] / source_rate_hz)
    return path


def _audio_packets(
    stream: av.audio.stream.AudioStream, channels: Samples, rate_hz: int, encoding: Encoding
) -> list[av.Packet]:
    source_layout = "mono" if channels.shape[0] == 1 else "stereo"
    frame = av.AudioFrame.from_ndarray(
        np.ascontiguousarray(channels), format="fltp", layout=source_layout
    )
    frame.sample_rate, frame.pts, frame.time_base = rate_hz, 0, Fraction(1, rate_hz)
    context = stream.codec_context
    resampler = av.AudioResampler(
        format=context.format.name,
        layout=encoding.layout,
        rate=encoding.rate_hz,
        frame_size=context.frame_size or 1024,
    )
    packets: list[av.Packet] = []
    for converted in resampler.resample(frame) + resampler.resample(None):
        packets.extend(stream.encode(converted))
    packets.extend(stream.encode(None))
    return packets


def _add_video(out: av.container.OutputContainer, codec: str | None) -> av.VideoStream | None:
    if codec is None:
        return None
    video = out.add_stream(codec, rate=25)
    video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
    return video


def _write_video(
    out: av.container.OutputContainer, video: av.VideoStream, duration_s: float
) -> None:
    for index in range(int(duration_s * 25)):
        image = np.full((48, 64, 3), (index * 9) % 255, dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")
        frame.pts = index
        for packet in video.encode(frame):
            out.mux(packet)
    for packet in video.encode(None):
        out.mux(packet)


def envelope_match(decoded: Samples, reference: Samples, rate_hz: int = RATE) -> float:
    """Best correlation of 20 ms log-energy envelopes over lags of up to ±100 ms."""
    frame = rate_hz // 50

    def levels(signal: Samples) -> npt.NDArray[np.float64]:
        usable = signal[: len(signal) // frame * frame].astype(np.float64)
        return 10 * np.log10((usable.reshape(-1, frame) ** 2).mean(axis=1) + 1e-8)

    a, b = levels(decoded), levels(reference)
    best = -1.0
    for lag in range(-5, 6):
        x, y = (a[lag:], b) if lag >= 0 else (a, b[-lag:])
        n = min(len(x), len(y))
        best = max(best, float(np.corrcoef(x[:n], y[:n])[0, 1]))
    return best


def waveform_correlation(a: Samples, b: Samples) -> float:
    """Zero-lag correlation coefficient of two equally long signals."""
    return float(np.corrcoef(a, b)[0, 1])


@pytest.fixture(scope="module")
def source(english_wav: Path) -> Samples:
    """The test sentence as mono float32 at 16 kHz."""
    return read_mono(english_wav, RATE)


@pytest.fixture(scope="module")
def other_voice(speech_dir: Path) -> Samples:
    """A different sentence in a different voice, mono float32 at 16 kHz."""
    path = speak("Please call me back after lunch on Monday.", speech_dir / "other.wav", "rms")
    return read_mono(path, RATE)


@pytest.fixture
def make(tmp_path: Path, source: Samples):
    """Encode the test sentence with an :class:`Encoding` into ``tmp_path``."""

    def _make(encoding: Encoding, name: str | None = None) -> Path:
        target = tmp_path / (name or encoding.name)
        return encode_audio(target, source[np.newaxis, :], RATE, encoding)

    return _make


def by_name(name: str) -> Encoding:
    return next(encoding for encoding in ENCODINGS if encoding.name == name)


@pytest.mark.parametrize("encoding", ENCODINGS, ids=lambda e: e.name)
def test_probe_describes_each_format(make, source: Samples, encoding: Encoding) -> None:
    path = make(encoding)
    info = probe(path, LIMITS)
    assert encoding.expected_format in info.format_name.split(",")
    assert info.codec_name == encoding.expected_codec
    assert info.sample_rate_hz == encoding.rate_hz
    assert info.channels == (2 if encoding.layout == "stereo" else 1)
    assert info.has_video == (encoding.video is not None)
    assert info.size_bytes == path.stat().st_size
    assert info.duration_s == pytest.approx(len(source) / RATE, abs=0.1)


@pytest.mark.parametrize("encoding", ENCODINGS, ids=lambda e: e.name)
def test_decode_gives_the_speech_back(make, source: Samples, encoding: Encoding) -> None:
    progress: list[float] = []
    audio = decode(make(encoding), RATE, LIMITS, progress.append)
    assert audio.sample_rate_hz == RATE
    assert audio.samples.dtype == np.float32
    assert audio.samples.shape[1] == pytest.approx(len(source), abs=0.1 * RATE)
    mono = audio.mixed()
    assert float(np.sqrt(np.mean(mono**2))) > 0.3 * float(np.sqrt(np.mean(source**2)))
    assert envelope_match(mono, source) > 0.85
    assert progress[-1] == 1.0
    assert progress == sorted(progress)
    assert len(progress) > 2


def test_stereo_channels_stay_distinct(
    tmp_path: Path, source: Samples, other_voice: Samples
) -> None:
    n = max(len(source), len(other_voice))
    left = np.pad(source, (0, n - len(source)))
    right = np.pad(other_voice, (0, n - len(other_voice)))
    encoding = Encoding("stereo.flac", "flac", "flac", 16000, "flac", "flac", layout="stereo")
    path = encode_audio(tmp_path / "stereo.flac", np.stack([left, right]), RATE, encoding)
    audio = decode(path, RATE, LIMITS)
    assert audio.channel_count == 2
    assert waveform_correlation(audio.channel(0), left) > 0.99
    assert waveform_correlation(audio.channel(1), right) > 0.99
    assert abs(waveform_correlation(audio.channel(0), right)) < 0.2
    assert channels_differ(audio)


def test_stereo_telephone_call_is_separated_in_auto_mode(tmp_path: Path, source: Samples) -> None:
    narrow = read_mono(write_wav(tmp_path / "s.wav", [source], RATE), 8000)
    path = write_wav(tmp_path / "call.wav", [narrow, narrow], 8000, codec="pcm_mulaw")
    info, audio = probe(path, LIMITS), decode(path, 8000, LIMITS)
    assert not channels_differ(audio)
    assert choose_separate("auto", info, audio)
    assert not choose_separate("mix", info, audio)


def test_mono_copied_to_stereo_is_mixed_in_auto_mode(tmp_path: Path, source: Samples) -> None:
    encoding = Encoding("dual.mp3", "mp3", "libmp3lame", 16000, "mp3", "mp3", layout="stereo")
    path = encode_audio(tmp_path / "dual.mp3", np.stack([source, source]), RATE, encoding)
    info, audio = probe(path, LIMITS), decode(path, RATE, LIMITS)
    assert audio.channel_count == 2
    assert not choose_separate("auto", info, audio)
    assert choose_separate("separate", info, audio)


def test_two_minutes_of_digital_silence_decode(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "silence.wav", [np.zeros(120 * 8000, np.float32)], 8000)
    audio = decode(path, RATE, LIMITS)
    assert audio.duration_s == pytest.approx(120.0, abs=0.01)
    assert not audio.samples.any()


# --- bad input -----------------------------------------------------------------------


def test_random_bytes_are_not_media(tmp_path: Path) -> None:
    path = tmp_path / "noise.wav"
    path.write_bytes(np.random.default_rng(7).integers(0, 256, 50_000, np.uint8).tobytes())
    with pytest.raises(NotMediaError):
        probe(path, LIMITS)
    with pytest.raises(NotMediaError):
        decode(path, RATE, LIMITS)


def test_text_is_not_media(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp3"
    path.write_text("Meeting notes: call the supplier on Tuesday.\n" * 200)
    with pytest.raises(NotMediaError):
        decode(path, RATE, LIMITS)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.touch()
    with pytest.raises(EmptyMediaError):
        decode(path, RATE, LIMITS)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        decode(tmp_path / "absent.wav", RATE, LIMITS)


def test_video_without_audio(tmp_path: Path) -> None:
    path = tmp_path / "silent-film.mp4"
    with av.open(str(path), "w", format="mp4") as out:
        video = _add_video(out, "mpeg4")
        assert video is not None
        _write_video(out, video, 1.0)
    with pytest.raises(NoAudioStreamError):
        probe(path, LIMITS)
    with pytest.raises(NoAudioStreamError):
        decode(path, RATE, LIMITS)


@pytest.mark.parametrize("name", ["pcm.wav", "speech.mp3", "speech.flac", "speech.opus"])
def test_truncated_file_keeps_what_was_recorded(make, source: Samples, name: str) -> None:
    path = make(by_name(name))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    audio = decode(path, RATE, LIMITS)
    assert 0.3 < audio.samples.shape[1] / len(source) < 0.7
    assert envelope_match(audio.mixed(), source[: audio.samples.shape[1]]) > 0.85


def test_truncated_mp4_without_index_is_corrupt(make) -> None:
    path = make(by_name("speech.m4a"))
    data = path.read_bytes()
    assert data.find(b"moov") > len(data) // 2, "the index must be at the end for this test"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptMediaError):
        decode(path, RATE, LIMITS)


@pytest.mark.parametrize("name", ["speech.mp3", "speech.m4a", "speech.flac", "speech.amr"])
def test_mostly_garbage_is_corrupt(make, name: str) -> None:
    path = make(by_name(name))
    data = bytearray(path.read_bytes())
    start, end = len(data) // 10, len(data) - len(data) // 20
    data[start:end] = np.random.default_rng(3).integers(0, 256, end - start, np.uint8).tobytes()
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptMediaError):
        decode(path, RATE, LIMITS)


@pytest.mark.parametrize("name", [e.name for e in ENCODINGS])
def test_damage_never_lets_a_library_error_escape(make, name: str) -> None:
    path = make(by_name(name))
    original = path.read_bytes()
    rng = np.random.default_rng(11)
    for _ in range(6):
        data = bytearray(original)
        for offset in rng.integers(0, len(data), 40):
            data[offset] = int(rng.integers(0, 256))
        path.write_bytes(bytes(data[: int(rng.integers(len(data) // 3, len(data) + 1))]))
        try:
            decode(path, RATE, LIMITS)
        except DsacError as error:
            assert isinstance(error, InputError)


def test_hls_playlist_named_wav_is_refused(tmp_path: Path, english_wav: Path) -> None:
    path = tmp_path / "innocent.wav"
    path.write_text(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:5\n"
        f"#EXTINF:3.0,\n{english_wav}\n#EXT-X-ENDLIST\n"
    )
    with pytest.raises(ForbiddenFormatError, match="playlists"):
        probe(path, LIMITS)
    with pytest.raises(ForbiddenFormatError):
        decode(path, RATE, LIMITS)


def test_ffconcat_named_mp3_is_refused(tmp_path: Path, english_wav: Path) -> None:
    path = tmp_path / "song.mp3"
    path.write_text(f"ffconcat version 1.0\nfile '{english_wav}'\n")
    with pytest.raises(ForbiddenFormatError, match="file-referencing"):
        decode(path, RATE, LIMITS)


def test_ffmpeg_itself_refuses_a_playlist_the_sniffer_missed(make, tmp_path: Path) -> None:
    segment = make(Encoding("seg.ts", "mpegts", "aac", 16000, "aac", "mpegts"))
    playlist = tmp_path / "list.m3u8"
    playlist.write_text(
        f"#EXTM3U\n#EXT-X-TARGETDURATION:5\n#EXTINF:3.0,\n{segment}\n#EXT-X-ENDLIST\n"
    )
    with av.open(str(playlist)) as unguarded:  # what an unguarded open would do
        assert unguarded.format.name == "hls"
    with pytest.raises(NotMediaError):
        open_container(playlist, b"")


def test_file_over_the_size_limit(make) -> None:
    path = make(by_name("pcm.wav"))
    limits = MediaLimits(max_size_bytes=path.stat().st_size - 1)
    with pytest.raises(MediaTooLargeError):
        probe(path, limits)
    assert probe(path, MediaLimits(max_size_bytes=path.stat().st_size)).size_bytes > 0


def test_declared_duration_over_the_limit_is_refused_before_decoding(make, source) -> None:
    path = make(by_name("speech.flac"))
    limits = MediaLimits(max_duration_s=len(source) / RATE - 0.5)
    with pytest.raises(MediaTooLongError):
        probe(path, limits)


def _ten_seconds(rate_hz: int = RATE) -> Samples:
    rng = np.random.default_rng(5)
    return (0.1 * rng.standard_normal((1, 10 * rate_hz))).astype(np.float32)


def test_header_understating_the_duration_is_caught_while_decoding(tmp_path: Path) -> None:
    encoding = Encoding("ten.mp3", "mp3", "libmp3lame", 16000, "mp3", "mp3")
    path = encode_audio(tmp_path / "ten.mp3", _ten_seconds(), RATE, encoding)
    data = bytearray(path.read_bytes())
    info_tag = data.find(b"Info")  # LAME's Xing-style header: frame count at +8
    assert info_tag > 0
    data[info_tag + 8 : info_tag + 12] = struct.pack(">I", 10)
    path.write_bytes(bytes(data))
    limits = MediaLimits(max_duration_s=3.0)
    assert (probe(path, limits).duration_s or 0.0) < 1.0  # the header lies
    with pytest.raises(MediaTooLongError):
        decode(path, RATE, limits)
    assert decode(path, RATE, LIMITS).duration_s == pytest.approx(10.0, abs=0.1)


def test_stream_without_declared_duration_is_caught_while_decoding(tmp_path: Path) -> None:
    encoding = Encoding("live.mka", "matroska", "flac", 16000, "flac", "matroska")
    path = encode_audio(
        tmp_path / "live.mka", _ten_seconds(), RATE, encoding, muxer_options={"live": "1"}
    )
    limits = MediaLimits(max_duration_s=3.0)
    assert probe(path, limits).duration_s is None
    with pytest.raises(MediaTooLongError):
        decode(path, RATE, limits)


def test_file_name_with_a_colon_is_a_file_not_a_protocol(make) -> None:
    path = make(by_name("pcm.wav"), name="rtp:evil.wav")
    assert decode(path, RATE, LIMITS).channel_count == 1


def test_symlink_to_a_device_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "endless.wav"
    os.symlink("/dev/zero", link)
    with pytest.raises(InputError, match="not a regular file"):
        decode(link, RATE, LIMITS)


def test_more_than_eight_planar_channels_are_mixed_to_one(tmp_path: Path) -> None:
    """Opus decodes to planar frames, which PyAV cannot read beyond eight channels."""
    path, layout, rate = tmp_path / "ten.mka", "10 channels", 48000
    levels = np.linspace(0.05, 0.5, 10, dtype=np.float32)
    data = _ten_seconds(rate)[:, :rate] * levels[:, np.newaxis]
    with av.open(str(path), "w", format="matroska") as out:
        stream = out.add_stream("libopus", rate=rate, layout=layout)
        stream.codec_context.options = {"mapping_family": "255"}
        packed = np.ascontiguousarray(data.T).reshape(1, -1)  # planar >8 channels crash PyAV
        frame = av.AudioFrame.from_ndarray(packed, format="flt", layout=layout)
        frame.sample_rate, frame.pts = rate, 0
        resampler = av.AudioResampler(format="flt", layout=layout, rate=rate, frame_size=960)
        for converted in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(converted):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    assert probe(path, LIMITS).channels == 10
    audio = decode(path, RATE, LIMITS)
    assert audio.channel_count == 1
    assert audio.duration_s == pytest.approx(1.0, abs=0.05)
    assert float(np.sqrt(np.mean(audio.samples**2))) > 0.01
