"""The silence bomb: hours of multichannel digital silence as FLAC (a few MB), which
decodes to gigabytes; shared by the decoding-memory test and bench/decode_memory.py."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

SOURCE_RATE_HZ = 8000


def write_silence(path: Path, hours: float, channels: int) -> Path:
    """``hours`` of ``channels``-channel silence at 8 kHz, as FLAC."""
    layout = f"{channels} channels" if channels != 8 else "7.1"
    total = round(hours * 3600 * SOURCE_RATE_HZ)
    block = min(60 * SOURCE_RATE_HZ, total)
    pcm = np.zeros((1, block * channels), np.int16)
    with av.open(str(path), "w", format="flac") as container:
        stream = container.add_stream("flac", rate=SOURCE_RATE_HZ, layout=layout)
        for index in range(total // block):
            frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout=layout)
            frame.sample_rate, frame.pts = SOURCE_RATE_HZ, index * block
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path
