"""The worker's supervisor: a child that dies is started again; stopping stops them all."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

from dsac_asr.cli_service import Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


def _wait_for(condition: object, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met")


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

    previous = signal.getsignal(signal.SIGTERM)
    driver = threading.Thread(target=drive, daemon=True)
    driver.start()
    try:
        supervisor.run()
    finally:
        signal.signal(signal.SIGTERM, previous)
    driver.join(5)
    assert seen["second"] != seen["first"]
    assert all(child.poll() is not None for child in supervisor.children.values())
    assert supervisor.children["b"].returncode == -signal.SIGTERM
