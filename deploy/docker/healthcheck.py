"""Container health check: GET /healthz of `serve` or `api`; a `worker` has no HTTP port.

Reads the container's command line (PID 1) for the command and `--port` (default 8000).
"""

from __future__ import annotations

import sys
import urllib.request
from pathlib import Path


def health(args: list[str]) -> int:
    """0 when the process that ``args`` started is healthy, else 1 (Docker's convention)."""
    if "worker" in args:
        return 0
    port = args[args.index("--port") + 1] if "--port" in args[:-1] else "8000"
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=4) as reply:
            return 0 if reply.status == 200 else 1
    except OSError:
        return 1


def main() -> int:
    """Check the container's main process."""
    cmdline = Path("/proc/1/cmdline").read_bytes().decode(errors="replace")
    return health(cmdline.split("\0"))


if __name__ == "__main__":
    sys.exit(main())
