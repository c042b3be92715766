"""``--format rttm`` asks for speaker turns: it implies --diarize, except with
--channels separate (each channel is then its own speaker)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dsac_asr import cli
from dsac_asr.pipeline import Pipeline, TranscriptionOptions
from dsac_asr.transcript import Segment, SpeakerSpan, Transcript, Word


class RecordingPipeline:
    """Records the options it is asked to transcribe with; one diarised word."""

    def __init__(self) -> None:
        self.options: list[TranscriptionOptions] = []

    def transcribe(
        self, path: Path, options: TranscriptionOptions, on_progress: object
    ) -> Transcript:
        self.options.append(options)
        word = Word("hello", 0.1, 0.5, 0.9, "A")
        turns = (SpeakerSpan(0.05, 0.6, "A"),)
        segments = (Segment((word,), "Hello.", "A"),)
        return Transcript(segments, "eng", "whisper-base", 1.0, speaker_turns=turns)


@pytest.mark.parametrize(
    ("flags", "diarize"),
    [
        (["-f", "rttm"], True),
        (["-f", "rttm", "--channels", "separate"], False),
        (["-f", "ctm"], False),
    ],
)
def test_rttm_asks_for_speakers(
    flags: list[str], diarize: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording = RecordingPipeline()
    monkeypatch.setattr(Pipeline, "from_settings", classmethod(lambda _cls, _s: recording))
    audio = tmp_path / "my call.wav"
    audio.write_bytes(b"RIFF")
    result = CliRunner().invoke(cli.app, ["transcribe", str(audio), *flags])
    assert result.exit_code == 0, result.output
    assert recording.options[0].diarize is diarize
    if "rttm" in flags:
        assert result.stdout == "SPEAKER my_call 1 0.050 0.550 <NA> <NA> A <NA> <NA>\n"
