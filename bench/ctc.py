"""Speed of the CTC engine against the raw network, on wav2vec2-shaped networks of real
sizes with random weights (speed does not depend on the weights' values; no public model
can be fetched here).

``python bench/ctc.py [base|large] [SECONDS]`` builds the network (base: 12 layers of 768,
about 95M parameters, as wav2vec2-base; large: 24 layers of 1024, about 315M, as XLS-R
300M and the Omnilingual 300M CTC), imports it with ``import_ctc`` (ONNX export, int8),
then times, on SECONDS (default 60) of flite speech with short pauses:

- raw: ONNX Runtime on 30 s windows of the audio, one after another;
- engine: ``CtcEngine.recognize`` (VAD, windows, batches of 4, alignment, words);

and prints the real-time factors, their ratio and the process's peak memory.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from speech import SENTENCES, concatenate_speech

from dsac_asr.engines import RecognitionRequest
from dsac_asr.engines.ctc import CtcEngine, CtcOptions
from dsac_asr.models.ctc_import import import_ctc

SIZES = {"base": (768, 12, 12, 3072), "large": (1024, 24, 16, 4096)}
RATE = 16000


def build(folder: Path, size: str) -> Path:
    """A random wav2vec2 CTC checkpoint of ``size`` with a letter vocabulary."""
    import json

    import torch
    from transformers import Wav2Vec2Config, Wav2Vec2ForCTC

    hidden, layers, heads, inner = SIZES[size]
    torch.manual_seed(0)
    tokens = ["<pad>", "<s>", "</s>", "<unk>", "|", *"abcdefghijklmnopqrstuvwxyz'"]
    config = Wav2Vec2Config(
        vocab_size=len(tokens), hidden_size=hidden, num_hidden_layers=layers,
        num_attention_heads=heads, intermediate_size=inner, pad_token_id=0,
        feat_extract_norm="layer", do_stable_layer_norm=True,
    )  # fmt: skip
    Wav2Vec2ForCTC(config).save_pretrained(folder)
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}))
    return folder


def main() -> None:
    size = sys.argv[1] if len(sys.argv) > 1 else "base"
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 60.0
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        started = time.monotonic()
        model = import_ctc(build(root / "hf", size), root / "models", model_id="m", language="zul")
        print(f"import ({size}): {time.monotonic() - started:.1f} s, "
              f"{(model.path / 'model.int8.onnx').stat().st_size / 1e6:.0f} MB int8")  # fmt: skip
        lines = [("slt", SENTENCES[i % len(SENTENCES)]) for i in range(200)]
        audio, _spans = concatenate_speech(root, lines, RATE, 0.3)
        audio = audio[: int(seconds * RATE)]
        duration_s = len(audio) / RATE
        engine = CtcEngine(model, CtcOptions(cpu_threads=0, batch_size=4))
        started = time.monotonic()
        for start in range(0, len(audio), 30 * RATE):
            engine._run([engine._prepared(audio[start : start + 30 * RATE])])
        raw_s = time.monotonic() - started
        started = time.monotonic()
        words = sum(len(s.words) for s in engine.recognize(audio, RecognitionRequest("zul")))
        engine_s = time.monotonic() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"audio {duration_s:.0f} s; raw RTF {raw_s / duration_s:.3f}; engine RTF "
          f"{engine_s / duration_s:.3f} ({words} words); engine/raw {engine_s / raw_s:.2f}; "
          f"peak memory {peak_mb:.0f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
