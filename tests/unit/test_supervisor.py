"""The worker's supervisor: a child that dies is started again; stopping stops them all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from dsac_asr.cli_service import Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


def _wait_for(condition: object, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met")


def _supervise(supervisor: Supervisor, drive: Callable[[], None]) -> None:
    """Run the supervisor here while ``drive`` (which ends with SIGTERM) runs beside it."""
    previous = signal.getsignal(signal.SIGTERM)
    driver = threading.Thread(target=drive, daemon=True)
    driver.start()
    try:
        supervisor.run()
    finally:
        signal.signal(signal.SIGTERM, previous)
    driver.join(5)


def test_a_killed_child_is_started_again_and_all_stop_on_sigterm() -> None:
    supervisor = Supervisor({"a": SLEEPER, "b": SLEEPER}, restart_s=0.1)
    seen: dict[str, int] = {}

    def drive() -> None:
        _wait_for(lambda: len(supervisor.children) == 2)
        seen["first"] = supervisor.children["a"].pid
        os.kill(seen["first"], signal.SIGKILL)
        _wait_for(lambda: supervisor.children["a"].pid != seen["first"])
        seen["second"] = supervisor.children["a"].pid
        os.kill(os.getpid(), signal.SIGTERM)

    _supervise(supervisor, drive)
    assert seen["second"] != seen["first"]
    assert all(child.poll() is not None for child in supervisor.children.values())
    assert supervisor.children["b"].returncode == -signal.SIGTERM


class RecordingExits:
    """Stands in for ``SlotExits``: records what the supervisor tells it."""

    def __init__(self) -> None:
        self.exited_children: list[tuple[str, int]] = []
        self.stopping_children: list[tuple[str, int | None]] = []
        self.looks = 0

    def looked(self) -> None:
        self.looks += 1

    def stopping(self, name: str, child: subprocess.Popen[bytes]) -> list[str]:
        self.stopping_children.append((name, child.poll()))  # still running when told
        if name == "broken":
            raise RuntimeError("the job store is gone")
        return []

    def exited(self, name: str, child: subprocess.Popen[bytes]) -> list[str]:
        self.exited_children.append((name, child.returncode))
        if name == "broken":
            raise RuntimeError("the job store is gone")
        return []


def test_each_child_that_dies_is_told_with_how_it_ended() -> None:
    exits = RecordingExits()
    commands = {"a": SLEEPER, "broken": SLEEPER}
    supervisor = Supervisor(commands, restart_s=0.1, exits=exits)  # type: ignore[arg-type]
    first: dict[str, int] = {}

    def drive() -> None:
        _wait_for(lambda: len(supervisor.children) == 2)
        first.update({name: child.pid for name, child in supervisor.children.items()})
        os.kill(first["a"], signal.SIGKILL)
        os.kill(first["broken"], signal.SIGSEGV)
        _wait_for(lambda: len(exits.exited_children) == 2)
        _wait_for(lambda: all(c.pid != first[n] for n, c in supervisor.children.items()))
        os.kill(os.getpid(), signal.SIGTERM)

    _supervise(supervisor, drive)
    assert sorted(exits.exited_children) == [("a", -signal.SIGKILL), ("broken", -signal.SIGSEGV)]
    assert exits.looks >= 2  # after every look at the children


def test_each_running_child_is_told_stopping_before_it_is_asked_to_stop() -> None:
    exits = RecordingExits()
    commands = {"a": SLEEPER, "broken": SLEEPER, "gone": SLEEPER}
    supervisor = Supervisor(commands, restart_s=60, exits=exits)  # type: ignore[arg-type]

    def drive() -> None:
        _wait_for(lambda: len(supervisor.children) == 3)
        gone = supervisor.children["gone"]
        os.kill(gone.pid, signal.SIGKILL)
        _wait_for(lambda: gone.poll() is not None)  # dead, and not started again yet
        os.kill(os.getpid(), signal.SIGTERM)

    _supervise(supervisor, drive)
    assert sorted(exits.stopping_children) == [("a", None), ("broken", None)]
    assert supervisor.children["a"].returncode == -signal.SIGTERM
    assert supervisor.children["broken"].returncode == -signal.SIGTERM  # stopped all the same
