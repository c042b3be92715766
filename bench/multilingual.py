"""Benchmark: multilingual (`mul`) recognition of a file alternating two languages.

    python bench/multilingual.py [--other afr] [--regions 10] [--pause-s 1.0]
                                 [--batch-sizes 1,4] [--model whisper-base]

Makes ``--regions`` spoken lines alternating English (flite) and ``--other``
(espeak-ng: ``afr`` Afrikaans, or ``deu`` German, which is not a South African
language and so is given to the engine directly as a candidate) with
``--pause-s`` of silence between lines. For each batch size it recognises the
file with the engine in `mul` mode (candidates: English and the other language,
as the pipeline gives them for ``afr``) and once in English only, and prints the
per-region language accuracy (each line's language taken from the words inside
its time span), the languages found, and the time of each run (the model is
loaded and warmed up before timing).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from multilingual_speech import Alternation, accuracy, alternate, region_languages, segment_words

from dsac_asr.engines import EngineOptions, RecognitionRequest, load_engine
from dsac_asr.engines.base import Engine
from dsac_asr.models.bundled import bundled_models
from dsac_asr.pipeline import multilingual_candidates

SAMPLE_RATE_HZ = 16000


def _engine(model_id: str, batch_size: int) -> tuple[Engine, tuple[str, ...]]:
    model = next(m for m in bundled_models() if m.id == model_id)
    engine = load_engine(model, EngineOptions(batch_size=batch_size))
    return engine, multilingual_candidates(model.manifest.languages)


def _timed(engine: Engine, speech: Alternation, request: RecognitionRequest) -> dict[str, Any]:
    started = time.perf_counter()
    segments = engine.recognize(speech.samples, request)
    wall_s = time.perf_counter() - started
    found = region_languages(speech.spans, segment_words(segments))
    return {
        "wall_s": round(wall_s, 2),
        "rtf": round(wall_s / (len(speech.samples) / SAMPLE_RATE_HZ), 4),
        "region_languages": found,
        "accuracy": round(accuracy(speech.languages, found), 3),
        "languages_found": sorted({s.language for s in segments if s.language}),
    }


def _run(model_id: str, batch_size: int, other: str, speech: Alternation) -> dict[str, Any]:
    engine, candidates = _engine(model_id, batch_size)
    if other not in candidates:
        candidates = ("eng", other)
    engine.recognize(speech.samples[: 5 * SAMPLE_RATE_HZ], RecognitionRequest("eng"))  # warm-up
    multilingual = _timed(engine, speech, RecognitionRequest("mul", candidate_languages=candidates))
    english = _timed(engine, speech, RecognitionRequest("eng"))
    return {
        "candidates": list(candidates),
        "mul": multilingual,
        "eng_only_wall_s": english["wall_s"],
        "mul_vs_eng_time": round(multilingual["wall_s"] / english["wall_s"], 2),
    }


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--other", default="afr", choices=("afr", "deu"))
    parser.add_argument("--regions", type=int, default=10)
    parser.add_argument("--pause-s", type=float, default=1.0)
    parser.add_argument("--batch-sizes", default="1,4")
    parser.add_argument("--model", default="whisper-base")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        speech = alternate(Path(tmp), args.other, args.regions, SAMPLE_RATE_HZ, args.pause_s)
    report: dict[str, Any] = {
        "audio_s": round(len(speech.samples) / SAMPLE_RATE_HZ, 1),
        "reference": speech.languages,
        "cpus": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "batch_sizes": {},
    }
    for size in (int(s) for s in args.batch_sizes.split(",")):
        report["batch_sizes"][str(size)] = _run(args.model, size, args.other, speech)
    print(json.dumps(report, indent=2))
    for size, figures in report["batch_sizes"].items():
        mul = figures["mul"]
        print(
            f"batch {size}: {args.other}/eng per-region accuracy {mul['accuracy']:.0%}, "
            f"found {','.join(mul['languages_found'])}, mul {mul['wall_s']:.1f} s vs "
            f"eng only {figures['eng_only_wall_s']:.1f} s ({figures['mul_vs_eng_time']:.2f}x)"
        )


if __name__ == "__main__":
    main()
