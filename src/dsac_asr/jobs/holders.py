"""Names of processes in the job store: ``host:pid``, for claims and sweep turns."""

from __future__ import annotations

import os
import socket


def process_holder(pid: int | None = None) -> str:
    """The name of process ``pid`` on this host (default: this process)."""
    return f"{socket.gethostname()[:40]}:{os.getpid() if pid is None else pid}"
