"""A real ``redis-server`` started by the tests on a free loopback port."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis
from service_harness import free_port


@contextmanager
def running_redis() -> Iterator[str]:
    """Start redis-server (no persistence) and yield its URL; stop it afterwards."""
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.fail("redis-server is required: apt-get install redis-server")
    port = free_port()
    args = [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        _wait_until_up(url)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def _wait_until_up(url: str, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            redis.Redis.from_url(url).ping()
            return
        except redis.ConnectionError:
            time.sleep(0.1)
    raise AssertionError(f"redis-server did not start at {url}")
