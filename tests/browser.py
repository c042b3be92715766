"""Debian's headless Chromium driven by selenium, for the web page's tests.

The browser and its driver come from apt (``chromium``, ``chromium-driver``);
both paths are given explicitly so selenium-manager never looks for (or
downloads) anything. Each browser gets a fresh profile folder.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import uvicorn
from selenium import webdriver
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from service_harness import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--mute-audio",
    "--autoplay-policy=no-user-gesture-required",
)
T = TypeVar("T")


@contextmanager
def chromium(workdir: Path, width: int = 1100, height: int = 1400) -> Iterator[WebDriver]:
    """A headless Chromium whose downloads land in ``workdir / "downloads"``."""
    assert CHROMIUM.exists() and CHROMEDRIVER.exists(), (
        "the web page tests need Debian's chromium and chromium-driver (scripts/test.sh)"
    )
    downloads = workdir / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        *FLAGS,
        f"--user-data-dir={workdir / 'profile'}",
        f"--window-size={width},{height}",
    ):
        options.add_argument(flag)
    prefs = {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    options.add_experimental_option("prefs", prefs)
    os.environ.setdefault("SE_OFFLINE", "true")  # selenium-manager, if ever asked, stays offline
    service = ChromeService(
        executable_path=str(CHROMEDRIVER), log_output=str(workdir / "driver.log")
    )
    driver = webdriver.Chrome(service=service, options=options)
    try:
        driver.execute_cdp_cmd(
            "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
        )
        yield driver
    finally:
        driver.quit()


def wait_for(driver: WebDriver, condition: Callable[[WebDriver], T], timeout_s: float = 30) -> T:
    """Wait until ``condition`` returns something truthy, and return it."""
    result: T = WebDriverWait(driver, timeout_s, poll_frequency=0.2).until(condition)
    return result


def wait_for_file(folder: Path, name: str, timeout_s: float = 30) -> Path:
    """Wait until the browser has finished downloading ``name`` into ``folder``."""
    deadline = time.monotonic() + timeout_s
    path = folder / name
    while time.monotonic() < deadline:
        partial = list(folder.glob("*.crdownload"))
        if path.exists() and not partial and path.stat().st_size > 0:
            return path
        time.sleep(0.2)
    raise AssertionError(f"{name} not downloaded; {folder} holds {sorted(os.listdir(folder))}")


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn in a thread on a free loopback port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def enter_key(driver: WebDriver, key: str) -> None:
    """Type the API key into the page and wait until it is accepted."""
    driver.find_element("id", "api-key").send_keys(key)
    driver.find_element("css selector", "#key-form button[type=submit]").click()
    wait_for(driver, lambda d: "accepted" in d.find_element("id", "key-status").text)


def script(driver: WebDriver, source: str, *args: Any) -> Any:
    """Run JavaScript in the page and return its result."""
    return driver.execute_script(source, *args)
