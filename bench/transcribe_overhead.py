"""Pipeline overhead: `dsac-asr transcribe` end to end vs the raw engine call.

    python bench/transcribe_overhead.py [--duration-s 600] [--model whisper-base]

Makes about ``--duration-s`` seconds of English speech with flite, then times
(a) faster-whisper alone (load + decode + recognise, same model and settings)
and (b) the `dsac-asr transcribe` command, each in its own process, and
prints real-time factors, peak memory, WER and the ratio b/a. Runs alternate
(a, b, a, b...) and the best of ``--repeats`` counts.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import jiwer
from corpus import make_speech, normalize_text, write_mono_wav

HERE = Path(__file__).parent


def _measure(cmd: list[str]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, str(HERE / "measure.py"), *cmd], capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(out.stdout)
    if result["rc"] != 0:
        raise SystemExit(f"command failed: {' '.join(cmd)}")
    return result


def _transcript_text(json_path: Path) -> str:
    data = json.loads(json_path.read_text(encoding="utf-8"))
    return str(data["results"][0]["alternatives"][0]["transcript"])


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration-s", type=float, default=600.0)
    parser.add_argument("--model", default="whisper-base")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    work = HERE / "out"
    work.mkdir(exist_ok=True)
    samples, reference = make_speech(args.duration_s)
    audio = write_mono_wav(work / "speech.wav", samples)
    duration_s = len(samples) / 16000
    raw_cmd = [sys.executable, str(HERE / "raw_whisper.py"), args.model, str(audio)]
    beside = Path(sys.executable).with_name("dsac-asr")
    cli = str(beside) if beside.exists() else shutil.which("dsac-asr") or "dsac-asr"
    pipe_cmd = [cli, "transcribe", str(audio), "--model", args.model, "-o", str(work / "p.json")]
    raw, pipe = [], []
    for _ in range(args.repeats):
        raw.append(_measure([*raw_cmd, str(work / "raw.txt")]))
        pipe.append(_measure(pipe_cmd))
    best_raw = min(raw, key=lambda r: r["wall_s"])
    best_pipe = min(pipe, key=lambda r: r["wall_s"])
    ref = normalize_text(reference)
    wer_raw = jiwer.wer(ref, normalize_text((work / "raw.txt").read_text(encoding="utf-8")))
    wer_pipe = jiwer.wer(ref, normalize_text(_transcript_text(work / "p.json")))
    report = {
        "audio_s": round(duration_s, 1),
        "model": args.model,
        "raw": {
            "rtf": best_raw["wall_s"] / duration_s,
            "peak_mb": best_raw["peak_mb"],
            "wer": wer_raw,
        },
        "pipeline": {
            "rtf": best_pipe["wall_s"] / duration_s,
            "peak_mb": best_pipe["peak_mb"],
            "wer": wer_pipe,
        },
        "time_ratio": best_pipe["wall_s"] / best_raw["wall_s"],
        "memory_ratio": best_pipe["peak_mb"] / best_raw["peak_mb"],
        "runs": {
            "raw_wall_s": [r["wall_s"] for r in raw],
            "pipeline_wall_s": [p["wall_s"] for p in pipe],
        },
    }
    print(json.dumps(report, indent=2))
    print(
        f"audio {duration_s:.0f} s, {args.model}: raw RTF {report['raw']['rtf']:.3f}, "
        f"pipeline RTF {report['pipeline']['rtf']:.3f}, time ratio {report['time_ratio']:.3f} "
        f"(goal <= 1.10), memory ratio {report['memory_ratio']:.2f}, "
        f"WER raw {wer_raw:.2%} pipeline {wer_pipe:.2%}"
    )


if __name__ == "__main__":
    main()
