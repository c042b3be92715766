"""Run one command as a child and print its wall time and peak memory as JSON.

Used by the benchmarks so each figure belongs to exactly one process tree.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def main() -> None:
    """``python measure.py CMD ARGS...``"""
    started = time.perf_counter()
    completed = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=False)
    wall_s = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"rc": completed.returncode, "wall_s": wall_s, "peak_mb": peak_kib / 1024}))


if __name__ == "__main__":
    main()
