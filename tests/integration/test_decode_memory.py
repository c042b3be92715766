"""The silence bomb: an 8-channel FLAC of 4 hours of silence is a few MB, yet would decode
to ~7 GB. It must be refused or decoded within 1.5 GB above the worker's idle memory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from silence_bomb import write_silence

from dsac_asr.audio import decode, probe
from dsac_asr.config import MediaLimits, Settings
from dsac_asr.errors import MediaTooLongError

pytestmark = [pytest.mark.integration, pytest.mark.slow]

GOAL_BYTES = 1.5e9
BOMB_S = 4 * 3600
CHANNELS = 8

# Decodes in a fresh interpreter and reports its peak RSS before and after (KiB on Linux).
_CHILD = """
import json, resource, sys
from pathlib import Path
from dsac_asr.audio import decode
from dsac_asr.config import Settings
limits = Settings(_env_file=None).media_limits
idle = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
audio = decode(Path(sys.argv[1]), 16000, limits, channel_mode=sys.argv[2])
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"idle_kib": idle, "peak_kib": peak, "channels": audio.channel_count,
                  "duration_s": audio.duration_s, "silent": not audio.samples.any()}))
"""


@pytest.fixture(scope="module")
def silence_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 channels (7.1), 4 hours of digital silence at 8 kHz, FLAC: about 7 MB."""
    path = tmp_path_factory.mktemp("bomb") / "silence-8ch-4h.flac"
    return write_silence(path, BOMB_S / 3600, CHANNELS)


def _decode_in_child(path: Path, mode: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), mode],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_the_bomb_is_small_and_declares_four_hours_of_eight_channels(silence_bomb: Path) -> None:
    info = probe(silence_bomb, MediaLimits())
    assert silence_bomb.stat().st_size < 20e6
    assert info.channels == CHANNELS
    assert info.duration_s == pytest.approx(BOMB_S, abs=1)


@pytest.mark.parametrize("mode", ["auto", "separate"])
def test_the_bomb_decodes_to_one_channel_within_the_memory_goal(
    silence_bomb: Path, mode: str
) -> None:
    """With the service's settings (2 channels at most) even ``separate`` mixes the 8
    channels while decoding: 4 h of mono 16 kHz audio is 0.92 GB."""
    assert Settings(_env_file=None).max_channels < CHANNELS
    run = _decode_in_child(silence_bomb, mode)
    assert run["channels"] == 1
    assert run["duration_s"] == pytest.approx(BOMB_S, abs=0.1)
    assert run["silent"]
    above_idle_bytes = (run["peak_kib"] - run["idle_kib"]) * 1024
    assert above_idle_bytes <= GOAL_BYTES, f"{above_idle_bytes / 1e9:.2f} GB above idle"


def test_eight_channels_kept_apart_are_refused_before_decoding(silence_bomb: Path) -> None:
    """Allowed all 8 channels and asked to keep them apart, the bomb would need 7.4 GB:
    refused with a clear error, before any sample is decoded."""
    limits = MediaLimits(max_channels=8)
    with pytest.raises(MediaTooLongError, match=r"8 channel\(s\).*over the limit") as caught:
        decode(silence_bomb, 16000, limits, channel_mode="separate")
    assert "mixed channels" in caught.value.message
