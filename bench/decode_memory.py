"""Benchmark: peak memory of decoding a long multichannel file (the silence bomb).

    python bench/decode_memory.py [--hours 4] [--channels 8] [--mode auto]
                                  [--transcribe whisper-base]

Writes ``--hours`` of ``--channels``-channel digital silence at 8 kHz as FLAC
(a few MB), then decodes it to 16 kHz in a fresh process with the service's
settings (``DSAC_MAX_CHANNELS``, ``DSAC_MAX_DECODED_MB``) and prints the file
size, the decoded shape, the wall time and the peak memory above the process's
idle memory, against the goal of 1.5 GB. With ``--transcribe MODEL`` it also runs
``dsac-asr transcribe`` on it and on 5 s of the same silence (the idle worker:
model loaded) and prints both peaks.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import corpus  # noqa: F401  (puts tests/ on the path)
from silence_bomb import write_silence

GOAL_BYTES = 1.5e9
_CHILD = """
import json, resource, sys
from pathlib import Path
from dsac_asr.audio import decode
from dsac_asr.config import Settings
idle = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
audio = decode(Path(sys.argv[1]), 16000, Settings().media_limits, channel_mode=sys.argv[2])
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"idle_kib": idle, "peak_kib": peak, "shape": list(audio.samples.shape)}))
"""


def transcribe_peak_mb(path: Path, model: str) -> float:
    """Peak memory of ``dsac-asr transcribe`` on ``path`` (bench/measure.py), in MB."""
    beside = Path(sys.executable).with_name("dsac-asr")
    cli = str(beside) if beside.exists() else shutil.which("dsac-asr") or "dsac-asr"
    out = path.with_suffix(".json")
    command = [cli, "transcribe", str(path), "--model", model, "-o", str(out)]
    measure = str(Path(__file__).with_name("measure.py"))
    done = subprocess.run(
        [sys.executable, measure, *command], capture_output=True, text=True, check=True
    )
    return float(json.loads(done.stdout.strip().splitlines()[-1])["peak_mb"])


def main() -> None:
    """Make the file, decode it in a child, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=4.0)
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--mode", default="auto", choices=["auto", "mix", "separate"])
    parser.add_argument("--transcribe", metavar="MODEL", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = write_silence(Path(folder) / "silence.flac", args.hours, args.channels)
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(path), args.mode],
            capture_output=True,
            text=True,
            check=False,
        )
        wall_s = time.monotonic() - started
        size_mb = path.stat().st_size / 1e6
        if args.transcribe:
            short = write_silence(Path(folder) / "short.flac", 5 / 3600, args.channels)
            idle_mb = transcribe_peak_mb(short, args.transcribe)
            long_mb = transcribe_peak_mb(path, args.transcribe)
            print(
                f"dsac-asr transcribe --model {args.transcribe}: peak {long_mb:.0f} MB "
                f"against {idle_mb:.0f} MB on 5 s: {(long_mb - idle_mb) / 1e3:.2f} GB above"
            )
    if done.returncode != 0:
        print(f"refused or failed ({size_mb:.1f} MB file): {done.stderr.strip().splitlines()[-1]}")
        return
    run = json.loads(done.stdout.strip().splitlines()[-1])
    above_gb = (run["peak_kib"] - run["idle_kib"]) * 1024 / 1e9
    verdict = "meets" if above_gb * 1e9 <= GOAL_BYTES else "MISSES"
    print(
        f"{args.hours} h x {args.channels} ch silence, {size_mb:.1f} MB FLAC -> decoded "
        f"{run['shape']} in {wall_s:.1f} s; peak {above_gb:.2f} GB above idle "
        f"({verdict} the 1.5 GB goal)"
    )


if __name__ == "__main__":
    main()
