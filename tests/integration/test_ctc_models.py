"""CTC models imported both ways and run by the CTC engine on real speech.

The networks are tiny and randomly initialised (``tiny_models``): what they
recognise is noise, so words are never asserted. The tests check the import,
the windows and batches, and the word times the alignment gives.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from speech import SENTENCES, concatenate_speech, write_wav
from tiny_models import LETTERS, tiny_mms, tiny_wav2vec2

from dsac_asr.engines import RecognitionRequest, RecognizedSegment
from dsac_asr.engines.ctc import CtcEngine, CtcOptions
from dsac_asr.errors import ModelError
from dsac_asr.models.ctc_import import import_ctc
from dsac_asr.models.manifest import Band
from dsac_asr.models.registry import ModelRegistry
from dsac_asr.pipeline import Pipeline, TranscriptionOptions

pytestmark = [pytest.mark.integration, pytest.mark.slow]
RATE = 16000


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_wav2vec2(tmp_path_factory.mktemp("hf") / "w2v")


@pytest.fixture(scope="module")
def long_speech(tmp_path_factory: pytest.TempPathFactory) -> npt.NDArray[np.float32]:
    """About 50 s of speech without long pauses: more than one 30 s window."""
    lines = [("slt", text) for text in SENTENCES[:18]]
    audio, _spans = concatenate_speech(tmp_path_factory.mktemp("ctc-speech"), lines, RATE, 0.3)
    assert len(audio) > 45 * RATE
    return audio


def _words(segments: list[RecognizedSegment]) -> list[tuple[str, float, float, float]]:
    return [(w.text, w.start_s, w.end_s, w.confidence) for s in segments for w in s.words]


def _check(segments: list[RecognizedSegment], duration_s: float, language: str) -> None:
    words = _words(segments)
    assert words, "a random CTC network still emits letters"
    for (_t, start, end, confidence), following in zip(words, [*words[1:], None], strict=True):
        assert 0 <= start < end <= duration_s and 0 < confidence <= 1
        assert following is None or following[1] >= end
    assert all(s.language == language for s in segments)
    assert all(w.text and w.text == w.text.lower() for s in segments for w in s.words)


def test_a_transformers_checkpoint_is_exported_and_quantised(
    checkpoint: Path, tmp_path: Path, long_speech: npt.NDArray[np.float32]
) -> None:
    model = import_ctc(checkpoint, tmp_path, model_id="zul-ctc", language="zul")
    assert sorted(p.name for p in model.path.iterdir()) == [
        "manifest.json", "model.int8.onnx", "tokens.txt",
    ]  # fmt: skip
    assert ModelRegistry(tmp_path, include_bundled=False).get("zul-ctc").manifest.ctc is not None
    assert not model.manifest.writes_punctuation
    tokens = (model.path / "tokens.txt").read_text().splitlines()
    assert tokens[:5] == ["<pad> 0", "<s> 1", "</s> 2", "<unk> 3", "| 4"]
    progress: list[float] = []
    segments = CtcEngine(model, CtcOptions(batch_size=4)).recognize(
        long_speech, RecognitionRequest("zul"), progress.append
    )
    _check(segments, len(long_speech) / RATE, "zul")
    assert progress == sorted(progress) and progress[-1] == 1.0 and len(progress) >= 2


def test_padded_batches_decode_as_windows_alone(
    checkpoint: Path, tmp_path: Path, long_speech: npt.NDArray[np.float32]
) -> None:
    """With float weights (int8 quantisation scales activations over the whole batch,
    so there batches differ slightly), the attention mask makes padding invisible."""
    model = import_ctc(checkpoint, tmp_path, model_id="zul-ctc", language="zul", quantize=False)
    assert model.manifest.ctc is not None and model.manifest.ctc.model_file == "model.onnx"
    batched = CtcEngine(model, CtcOptions(batch_size=4)).recognize(
        long_speech, RecognitionRequest("zul")
    )
    alone = CtcEngine(model, CtcOptions(batch_size=1)).recognize(
        long_speech, RecognitionRequest("zul")
    )
    assert len({s.words[0].start_s // 30 for s in batched}) >= 1
    assert [w[:3] for w in _words(alone)] == [w[:3] for w in _words(batched)]
    _check(batched, len(long_speech) / RATE, "zul")


def test_recognize_many_gives_each_clip_what_it_gets_alone(
    checkpoint: Path, tmp_path: Path, long_speech: npt.NDArray[np.float32]
) -> None:
    model = import_ctc(checkpoint, tmp_path, model_id="ctc", language="sot", quantize=False)
    engine = CtcEngine(model, CtcOptions(batch_size=8))
    clips = [long_speech[: 5 * RATE], long_speech[5 * RATE : 12 * RATE], np.zeros(RATE, "f4")]
    together = engine.recognize_many(clips, RecognitionRequest("sot"))
    for clip, segments in zip(clips, together, strict=True):
        assert _words(segments) == _words(engine.recognize(clip, RecognitionRequest("sot")))
    assert together[2] == []


def _sherpa_folder(checkpoint: Path, folder: Path) -> Path:
    """The checkpoint as sherpa-onnx lays out CTC models: ``model.onnx`` taking samples
    alone (no attention mask) and ``tokens.txt`` with ``<blk>`` and ``▁``-marked words."""
    import torch
    from transformers import AutoModelForCTC

    class Logits(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = AutoModelForCTC.from_pretrained(str(checkpoint)).eval()

        def forward(self, values: torch.Tensor) -> torch.Tensor:
            return self.model(values).logits

    folder.mkdir()
    axes = {0: "batch", 1: "samples"}
    torch.onnx.export(
        Logits(), (torch.zeros(1, RATE),), str(folder / "model.onnx"), input_names=["x"],
        output_names=["logits"], dynamic_axes={"x": axes}, opset_version=17, dynamo=False,
    )  # fmt: skip
    letters = [f"\u2581{c}" if i % 2 else c for i, c in enumerate("abcdefghijklmnopqrstuvwxyz'")]
    tokens = ["<blk>", "<s>", "</s>", "<unk>", " ", *letters]
    (folder / "tokens.txt").write_text("".join(f"{t} {i}\n" for i, t in enumerate(tokens)))
    return folder


def test_an_onnx_folder_is_imported_and_decoded_window_by_window(
    checkpoint: Path, tmp_path: Path, long_speech: npt.NDArray[np.float32]
) -> None:
    source = _sherpa_folder(checkpoint, tmp_path / "sherpa")
    model = import_ctc(source, tmp_path / "models", model_id="xho-onnx", language="xho")
    settings = model.manifest.ctc
    assert settings is not None and settings.model_file == "model.onnx"
    assert settings.blank_id == 0 and settings.word_delimiter is None and settings.normalize
    segments = CtcEngine(model, CtcOptions(batch_size=4)).recognize(
        long_speech, RecognitionRequest("xho")
    )
    _check(segments, len(long_speech) / RATE, "xho")


def test_unusable_folders_are_refused_with_what_they_lack(checkpoint: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelError, match=re.escape("neither model.int8.onnx nor model.onnx")):
        import_ctc(empty, tmp_path / "models", model_id="x", language="zul")
    onnx_only = tmp_path / "onnx-only"
    onnx_only.mkdir()
    (onnx_only / "model.onnx").write_bytes(b"")
    with pytest.raises(ModelError, match=re.escape("no tokens.txt")):
        import_ctc(onnx_only, tmp_path / "models", model_id="x", language="zul")
    whisper = tmp_path / "whisper"
    shutil.copytree(checkpoint, whisper)
    (whisper / "config.json").write_text('{"model_type": "whisper"}')
    with pytest.raises(ModelError, match="raw-waveform CTC models"):
        import_ctc(whisper, tmp_path / "models", model_id="x", language="zul")


def test_an_mms_checkpoint_is_exported_with_the_adapter_of_the_language(tmp_path: Path) -> None:
    source = tiny_mms(tmp_path / "mms")
    zulu = import_ctc(source, tmp_path / "models", model_id="zul-mms", language="zul")
    xhosa = import_ctc(source, tmp_path / "models", model_id="xho-mms", language="xho")
    assert len((zulu.path / "tokens.txt").read_text().splitlines()) == len(LETTERS) + 4
    assert len((xhosa.path / "tokens.txt").read_text().splitlines()) == len(LETTERS) + 5
    clip = np.random.default_rng(0).normal(0, 0.1, 3 * RATE).astype(np.float32)
    zulu_logits = CtcEngine(zulu)._run([clip])
    assert zulu_logits.shape[-1] == len(LETTERS) + 4
    with pytest.raises(ModelError, match="not sot"):
        import_ctc(source, tmp_path / "models", model_id="sot-mms", language="sot")


def test_a_stereo_call_gets_one_speaker_per_channel_through_the_pipeline(
    checkpoint: Path, tmp_path: Path
) -> None:
    """An 8 kHz call (agent left, customer right) on a CTC model imported as narrowband."""
    import_ctc(checkpoint, tmp_path / "models", model_id="zul-call", language="zul", band=Band.NB)
    turns = [("slt" if i % 2 == 0 else "rms", text) for i, text in enumerate(SENTENCES[:6])]
    mixed, spans = concatenate_speech(tmp_path, turns, 8000)
    channels = [np.zeros_like(mixed), np.zeros_like(mixed)]
    for index, (start_s, end_s) in enumerate(spans):
        lo, hi = int(start_s * 8000), int(end_s * 8000)
        channels[index % 2][lo:hi] = mixed[lo:hi]
    path = write_wav(tmp_path / "call.wav", channels, 8000, codec="pcm_mulaw")
    pipeline = Pipeline(ModelRegistry(tmp_path / "models"))
    transcript = pipeline.transcribe(path, TranscriptionOptions(language="zul"))
    assert transcript.model_id == "zul-call" and transcript.metadata["channels"] == "separate"
    assert "notes" not in transcript.metadata  # the narrowband model fits the call
    words = transcript.words
    assert words and transcript.speakers == ["A", "B"]

    def channel_at(time_s: float) -> str:
        index = min(range(len(spans)), key=lambda i: _gap(spans[i], time_s))
        return "AB"[index % 2]

    right = sum(w.speaker == channel_at((w.start_s + w.end_s) / 2) for w in words)
    assert right / len(words) >= 0.9
    assert [w.start_s for w in words] == sorted(w.start_s for w in words)


def _gap(span: tuple[float, float], time_s: float) -> float:
    return max(span[0] - time_s, time_s - span[1], 0.0)
