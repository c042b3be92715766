"""Let torchaudio import without its compiled part when that part does not load.

Test environments only. pyannote.audio (the ``pyannote`` extra) imports torchaudio,
whose compiled part is built for one torch release (torchaudio 2.11 for torch 2.11)
and fails to load with the CPU torch 2.13 the tests use. What pyannote's diarisation
uses of torchaudio (resampling, Kaldi filterbanks) is pure Python, and torchaudio
runs without its compiled part when that is absent, so its libraries are moved into
a subfolder it does not look in. Operators install torch and torchaudio of one
release instead (docs/diarization.md).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

CHECK = "import torchaudio"


def main() -> int:
    spec = importlib.util.find_spec("torchaudio")
    if spec is None or spec.origin is None:
        return 0
    if subprocess.run([sys.executable, "-c", CHECK], capture_output=True).returncode == 0:
        return 0
    lib = Path(spec.origin).parent / "lib"
    aside = lib / "set_aside"
    aside.mkdir(exist_ok=True)
    for library in lib.glob("*.so"):
        library.rename(aside / library.name)
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True)
    print(f"torchaudio: compiled part set aside in {aside} (it does not load with this torch)")
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
