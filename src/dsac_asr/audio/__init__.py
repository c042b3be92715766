"""Probing and decoding audio and video files with PyAV, safely.

Only audio/video container demuxers and local files are opened; playlists
and file-referencing formats are refused; size and duration limits hold.
Every PyAV/FFmpeg error is translated into :mod:`dsac_asr.errors`.
"""

from __future__ import annotations

from dsac_asr.audio.budget import CHANNEL_MODES, decoded_bytes
from dsac_asr.audio.channels import channels_differ, choose_separate
from dsac_asr.audio.convert import MAX_CHANNELS
from dsac_asr.audio.decode import DecodedAudio, decode
from dsac_asr.audio.formats import ALLOWED_DEMUXERS
from dsac_asr.audio.probe import MediaInfo, probe

__all__ = [
    "ALLOWED_DEMUXERS",
    "CHANNEL_MODES",
    "MAX_CHANNELS",
    "DecodedAudio",
    "MediaInfo",
    "channels_differ",
    "choose_separate",
    "decode",
    "decoded_bytes",
    "probe",
]
