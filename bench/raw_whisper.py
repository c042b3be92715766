"""The raw engine: faster-whisper on a file, with the settings dsac-asr uses.

``python raw_whisper.py MODEL_ID AUDIO OUT_TXT`` loads the bundled model the
same way (whole model, int8, CPU) and writes the text it recognised.
``load_model`` and ``transcribe_file`` are shared with ``raw_batch.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from faster_whisper import WhisperModel, decode_audio

from dsac_asr.models.bundled import bundled_models


def load_model(model_id: str) -> WhisperModel:
    """Load bundled model ``model_id`` as dsac-asr does (whole model, int8, CPU)."""
    installed = next(m for m in bundled_models() if m.id == model_id)
    kwargs = {}
    if installed.weight_parts:
        files = {p.name: p.read_bytes() for p in installed.path.glob("*.json")}
        files.update({p.name: p.read_bytes() for p in installed.path.glob("*.txt")})
        files["model.bin"] = b"".join(p.read_bytes() for p in installed.weight_parts)
        kwargs["files"] = files
    return WhisperModel(str(installed.path), device="cpu", compute_type="int8", **kwargs)


def transcribe_file(model: WhisperModel, audio_path: str) -> str:
    """Decode and recognise one file; the recognised text."""
    segments, _info = model.transcribe(
        decode_audio(audio_path),
        language="en",
        beam_size=5,
        word_timestamps=True,
        vad_filter=True,
        condition_on_previous_text=False,
    )
    return " ".join(s.text.strip() for s in segments)


def main() -> None:
    """Transcribe argv[2] with bundled model argv[1]; write text to argv[3]."""
    model_id, audio_path, out_path = sys.argv[1:4]
    model = load_model(model_id)
    Path(out_path).write_text(transcribe_file(model, audio_path), encoding="utf-8")


if __name__ == "__main__":
    main()
