"""How much of the machine other work took while a benchmark phase ran (Linux /proc).

``other_cpu_share`` is the CPU time used by processes outside this process's
tree during the phase, as a share of all cores over the phase's wall time:
0 means the benchmark had the machine to itself. ``steal_share`` is the same
for time the hypervisor gave to other machines.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

_TICK_S = 1 / os.sysconf("SC_CLK_TCK")


def _system_ticks() -> tuple[int, int]:
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return user + nice + system + irq + softirq, steal


def _tree_ticks(root: int) -> int:
    """utime+stime (own and reaped children's) of ``root`` and every descendant."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        rest = stat.rsplit(")", 1)[1].split()
        pid = int(entry.name)
        parents[pid] = int(rest[1])
        ticks[pid] = sum(int(v) for v in rest[11:15])
    total = 0
    for pid, own in ticks.items():
        node, seen = pid, 0
        while node > 1 and seen < 64:
            if node == root:
                total += own
                break
            node, seen = parents.get(node, 0), seen + 1
    return total


class LoadMeter:
    """Start it before a phase, ``stop()`` after: a dict of the phase's machine load."""

    def __init__(self) -> None:
        self.root = os.getpid()
        self.wall = time.monotonic()
        self.busy, self.steal = _system_ticks()
        self.ours = _tree_ticks(self.root)

    def stop(self) -> dict[str, Any]:
        """Figures since start: wall time, our CPU, others' CPU share, steal share."""
        wall_s = time.monotonic() - self.wall
        busy, steal = _system_ticks()
        ours = _tree_ticks(self.root)
        capacity_s = max(wall_s, 1e-9) * (os.cpu_count() or 1)
        ours_s = (ours - self.ours) * _TICK_S
        other_s = max(0.0, (busy - self.busy) * _TICK_S - ours_s)
        return {
            "wall_s": round(wall_s, 2),
            "our_cpu_s": round(ours_s, 2),
            "other_cpu_share": round(other_s / capacity_s, 3),
            "steal_share": round((steal - self.steal) * _TICK_S / capacity_s, 3),
            "load_avg_1m": os.getloadavg()[0],
        }
