"""Converting decoded frames to float32 arrays at one rate and channel layout."""

from __future__ import annotations

import av
import av.error
import numpy as np
import numpy.typing as npt
from av.audio.frame import AudioFrame
from av.audio.layout import AudioLayout

from dsac_asr.config import DECODER_MAX_CHANNELS
from dsac_asr.errors import CorruptMediaError

MAX_CHANNELS = DECODER_MAX_CHANNELS
"""Files with more channels than this are always mixed down to one channel."""

AV_ERRORS = (av.error.FFmpegError, ValueError)
"""What PyAV raises for bad data (``InvalidDataError`` is also a ``ValueError``)."""


class FrameConverter:
    """Converts frames to packed float32 at one rate and one fixed channel layout.

    A new FFmpeg resampler is made whenever the input frames change format,
    layout or rate mid-stream; the output layout stays that of the first frame.
    Packed output is used because PyAV cannot read planar frames of more than
    eight channels. With ``mix`` each frame is mixed to one channel (the mean
    of all) as it is converted, so the full channel count is never held.
    """

    def __init__(self, sample_rate_hz: int, *, mix: bool = False) -> None:
        self._rate = sample_rate_hz
        self._mix = mix
        self._layout: AudioLayout | None = None
        self._source: tuple[str, str, int] | None = None
        self._inner: av.AudioResampler | None = None

    def convert(self, frame: AudioFrame | None) -> list[npt.NDArray[np.float32]]:
        """Convert ``frame`` (``None`` flushes) to (channels, n) arrays."""
        try:
            frames = self._flush() if frame is None else self._push(frame)
            return [frame_array(out, mix=self._mix) for out in frames]
        except AV_ERRORS as exc:
            raise CorruptMediaError("the decoded audio cannot be converted") from exc

    def _push(self, frame: AudioFrame) -> list[AudioFrame]:
        source = (frame.format.name, frame.layout.name, frame.sample_rate)
        flushed = self._flush() if source != self._source else []
        if self._inner is None:
            self._layout = self._layout or frame.layout
            self._inner = av.AudioResampler(format="flt", layout=self._layout, rate=self._rate)
            self._source = source
        return flushed + self._inner.resample(frame)

    def _flush(self) -> list[AudioFrame]:
        inner, self._inner = self._inner, None
        return [] if inner is None else inner.resample(None)


def frame_array(frame: AudioFrame, *, mix: bool = False) -> npt.NDArray[np.float32]:
    """A packed float32 frame as a (channels, n) array; mixed to one channel (their
    mean) with ``mix`` or over :data:`MAX_CHANNELS` channels."""
    channels = frame.layout.nb_channels
    packed = frame.to_ndarray().astype(np.float32, copy=False)
    chunk: npt.NDArray[np.float32] = packed.reshape(-1, channels).T
    if channels > 1 and (mix or channels > MAX_CHANNELS):
        return np.asarray(chunk.mean(axis=0, keepdims=True, dtype=np.float32), dtype=np.float32)
    return chunk
