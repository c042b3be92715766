"""Benchmark: peak memory of a long file: the silence bomb, or hours of speech.

    python bench/decode_memory.py [--hours 4] [--channels 8] [--mode auto]
                                  [--speech] [--transcribe whisper-base [--diarize]]

Writes ``--hours`` of ``--channels``-channel digital silence at 8 kHz as FLAC
(a few MB), or with ``--speech`` ``--hours`` of continuous flite speech (a few
minutes of it repeated; 16 kHz mono WAV), then decodes it to 16 kHz in a fresh
process with the service's settings (``DSAC_MAX_CHANNELS``, ``DSAC_MAX_DECODED_MB``)
and prints the file size, the decoded shape, the wall time and the peak memory
above the process's idle memory, against the goal of 1.5 GB. With ``--transcribe
MODEL`` it also runs ``dsac-asr transcribe`` on it and on its first 5 s (the idle
worker: model loaded) and prints both peaks; ``--diarize`` adds speakers to both runs.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np
from corpus import SAMPLE_RATE_HZ, make_speech
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


def write_speech(path: Path, hours: float, take_s: float = 180.0) -> Path:
    """``hours`` of continuous flite speech: a ``take_s`` take repeated, 16 kHz mono WAV."""
    take, _text = make_speech(take_s)
    pcm = (np.clip(take, -1.0, 1.0) * 32767).astype("<i2")
    total = round(hours * 3600 * SAMPLE_RATE_HZ)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE_HZ)
        for index in range(math.ceil(total / len(pcm))):
            out.writeframes(pcm[: total - index * len(pcm)].tobytes())
    return path


def write_input(folder: Path, hours: float, channels: int, speech: bool) -> Path:
    """The file to measure: continuous speech, or the silence bomb."""
    if speech:
        return write_speech(folder / "speech.wav", hours)
    return write_silence(folder / "silence.flac", hours, channels)


def transcribe_peak_bytes(path: Path, model: str, diarize: bool = False) -> int:
    """Peak memory of ``dsac-asr transcribe`` on ``path``, in bytes (bench/measure.py
    reports MiB)."""
    beside = Path(sys.executable).with_name("dsac-asr")
    cli = str(beside) if beside.exists() else shutil.which("dsac-asr") or "dsac-asr"
    out = path.with_suffix(".json")
    command = [cli, "transcribe", str(path), "--model", model, "-o", str(out)]
    command += ["--diarize"] if diarize else []
    measure = str(Path(__file__).with_name("measure.py"))
    done = subprocess.run(
        [sys.executable, measure, *command], capture_output=True, text=True, check=True
    )
    run = json.loads(done.stdout.strip().splitlines()[-1])
    if run["rc"] != 0:
        raise SystemExit(f"dsac-asr transcribe {path.name} failed (exit {run['rc']})")
    return round(float(run["peak_mb"]) * 1024 * 1024)


def main() -> None:
    """Make the file, decode it in a child, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=4.0)
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--mode", default="auto", choices=["auto", "mix", "separate"])
    parser.add_argument("--speech", action="store_true", help="continuous speech, mono")
    parser.add_argument("--transcribe", metavar="MODEL", default=None)
    parser.add_argument("--diarize", action="store_true", help="transcribe with --diarize")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = write_input(Path(folder), args.hours, args.channels, args.speech)
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
            short = Path(folder) / "short"
            short.mkdir()
            write_input(short, 5 / 3600, args.channels, args.speech)
            short = next(short.iterdir())
            idle = transcribe_peak_bytes(short, args.transcribe, args.diarize)
            peak = transcribe_peak_bytes(path, args.transcribe, args.diarize)
            above = peak - idle
            print(
                f"dsac-asr transcribe --model {args.transcribe}{' --diarize' * args.diarize}: "
                f"peak {peak / 1e9:.2f} GB "
                f"against {idle / 1e9:.2f} GB on 5 s: {above / 1e9:.2f} GB above "
                f"({'meets' if above <= GOAL_BYTES else 'MISSES'} the 1.5 GB goal)"
            )
    if done.returncode != 0:
        print(f"refused or failed ({size_mb:.1f} MB file): {done.stderr.strip().splitlines()[-1]}")
        return
    run = json.loads(done.stdout.strip().splitlines()[-1])
    what = "continuous speech" if args.speech else f"{args.channels}-channel silence"
    above_gb = (run["peak_kib"] - run["idle_kib"]) * 1024 / 1e9
    verdict = "meets" if above_gb * 1e9 <= GOAL_BYTES else "MISSES"
    print(
        f"{args.hours} h of {what}, {size_mb:.1f} MB file -> decoded "
        f"{run['shape']} in {wall_s:.1f} s; peak {above_gb:.2f} GB above idle "
        f"({verdict} the 1.5 GB goal)"
    )


if __name__ == "__main__":
    main()
