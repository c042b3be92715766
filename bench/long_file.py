"""Benchmark (c): a long file through `dsac-asr transcribe`, sequential and batched.

    python bench/long_file.py [--duration-s 600] [--model whisper-base]
                              [--batch-sizes 1,default,8] [--repeats 2]

Makes about ``--duration-s`` seconds of English speech with flite (three
voices), then runs the `dsac-asr transcribe` command on it once per batch size
(``DSAC_BATCH_SIZE``; ``1`` is sequential decoding, ``default`` leaves the
setting unset), each run in its own process measured by ``measure.py``. Runs
alternate between the modes and the best of ``--repeats`` counts. Prints each
mode's real-time factor, peak memory, WER and the machine load while it ran,
and whether the goals (batched RTF <= 0.08, WER <= 2%, peak <= 1.2 GB) are met.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jiwer
from corpus import make_speech, normalize_text, write_mono_wav
from machine_load import LoadMeter

HERE = Path(__file__).parent
GOAL_RTF = 0.08
GOAL_WER = 0.02
GOAL_PEAK_MB = 1200.0


def _cli() -> str:
    beside = Path(sys.executable).with_name("dsac-asr")
    return str(beside) if beside.exists() else shutil.which("dsac-asr") or "dsac-asr"


def _env(batch_size: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DSAC_BATCH_SIZE"}
    if batch_size != "default":
        env["DSAC_BATCH_SIZE"] = batch_size
    return env


def _transcript_text(json_path: Path) -> str:
    data = json.loads(json_path.read_text(encoding="utf-8"))
    return str(data["results"][0]["alternatives"][0]["transcript"])


def _run(audio: Path, model: str, batch_size: str, work: Path) -> dict[str, Any]:
    """One measured `dsac-asr transcribe`: wall time, peak memory, WER input, load."""
    out = work / f"long-{batch_size}.json"
    cmd = [_cli(), "transcribe", str(audio), "--model", model, "-o", str(out)]
    meter = LoadMeter()
    done = subprocess.run(
        [sys.executable, str(HERE / "measure.py"), *cmd],
        capture_output=True,
        text=True,
        check=True,
        env=_env(batch_size),
    )
    result: dict[str, Any] = json.loads(done.stdout)
    if result["rc"] != 0:
        raise SystemExit(f"command failed (DSAC_BATCH_SIZE={batch_size}): {' '.join(cmd)}")
    result["load"] = meter.stop()
    result["text"] = _transcript_text(out)
    return result


def _summary(runs: list[dict[str, Any]], reference: str, duration_s: float) -> dict[str, Any]:
    best = min(runs, key=lambda r: r["wall_s"])
    return {
        "rtf": round(best["wall_s"] / duration_s, 4),
        "peak_mb": round(best["peak_mb"], 1),
        "wer": round(float(jiwer.wer(reference, normalize_text(best["text"]))), 4),
        "best_load": best["load"],
        "runs": [
            {"wall_s": round(r["wall_s"], 2), "peak_mb": round(r["peak_mb"], 1), **r["load"]}
            for r in runs
        ],
    }


def _goals(figures: dict[str, Any]) -> dict[str, bool]:
    return {
        "rtf<=0.08": figures["rtf"] <= GOAL_RTF,
        "wer<=2%": figures["wer"] <= GOAL_WER,
        "peak<=1.2GB": figures["peak_mb"] <= GOAL_PEAK_MB,
    }


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration-s", type=float, default=600.0)
    parser.add_argument("--model", default="whisper-base")
    parser.add_argument("--batch-sizes", default="1,default,8")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    modes = args.batch_sizes.split(",")
    work = HERE / "out"
    work.mkdir(exist_ok=True)
    samples, reference = make_speech(args.duration_s)
    audio = write_mono_wav(work / "long.wav", samples)
    duration_s = len(samples) / 16000
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    for _ in range(args.repeats):
        for mode in modes:
            runs[mode].append(_run(audio, args.model, mode, work))
    ref = normalize_text(reference)
    report = {
        "audio_s": round(duration_s, 1),
        "model": args.model,
        "cpus": os.cpu_count(),
        "modes": {mode: _summary(runs[mode], ref, duration_s) for mode in modes},
    }
    print(json.dumps(report, indent=2))
    for mode, figures in report["modes"].items():
        goals = "" if mode in ("0", "1") else f"  goals {_goals(figures)}"
        print(
            f"DSAC_BATCH_SIZE={mode}: RTF {figures['rtf']:.3f}, peak {figures['peak_mb']:.0f} MB, "
            f"WER {figures['wer']:.2%}, load {figures['best_load']['load_avg_1m']:.2f} "
            f"(others' CPU {figures['best_load']['other_cpu_share']:.0%}){goals}"
        )


if __name__ == "__main__":
    main()
