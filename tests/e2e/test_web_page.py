"""The web page in a real headless Chromium.

First against ``dsac-asr serve`` as a user runs it: upload the example call,
watch it finish, read both speakers, seek the audio from a word, download srt.
Then against the API on its real stores with a transcript stored the way a
worker stores one, holding markup in the file name and the words: it must
show as text and run nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_fakes import ApiHarness, finish_job, make_harness
from browser import chromium, enter_key, script, serving, wait_for, wait_for_file
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select
from service_harness import base_env, create_key, running_service

from dsac_asr.transcript import Segment, Transcript, Word

pytestmark = pytest.mark.e2e

CALL = Path(__file__).parents[2] / "examples" / "call.wav"
SCREENSHOT = os.environ.get("DSAC_WEB_SCREENSHOT")  # a path: save the transcript view there


def job_row(driver: WebDriver, name: str) -> WebElement | None:
    rows = driver.find_elements("css selector", "#job-list li.job")
    return next((r for r in rows if r.find_element("css selector", ".name").text == name), None)


def row_status(driver: WebDriver) -> str:
    return str(driver.find_element("css selector", "#job-list li.job .status").text)


@pytest.mark.slow
def test_upload_the_call_see_both_speakers_play_and_download(tmp_path: Path) -> None:
    env = base_env(tmp_path / "data")
    key = create_key(env, "acme")
    with running_service(env, tmp_path / "serve.log") as service, chromium(tmp_path) as driver:
        driver.get(service.base_url + "/")
        assert driver.title == "dsac-asr"
        enter_key(driver, key)
        driver.find_element("id", "files").send_keys(str(CALL))
        driver.find_element("id", "submit-button").click()
        wait_for(driver, lambda d: "1 job(s) queued" in d.find_element("id", "submit-status").text)
        row = wait_for(driver, lambda d: job_row(d, "call.wav"))
        progress = driver.find_element("css selector", "#job-list li.job progress")
        assert progress.get_attribute("aria-label") == "Progress of call.wav"
        wait_for(driver, lambda d: "succeeded" in row_status(d), timeout_s=240)
        assert float(progress.get_attribute("value") or 0) == 1.0
        # the live region announced the change of status
        wait_for(driver, lambda d: d.find_element("id", "jobs-live").text == "call.wav: succeeded")

        row.find_element("xpath", ".//button[text()='Open']").click()
        turns = wait_for(driver, lambda d: d.find_elements("css selector", "#transcript .turn"))
        speakers = {t.get_attribute("data-speaker") for t in turns}
        assert speakers == {"A", "B"}
        labels = {t.find_element("css selector", ".who").text for t in turns}
        assert labels == {"Speaker A", "Speaker B"}
        colours = {t.value_of_css_property("border-left-color") for t in turns}
        assert len(colours) == 2  # one colour per speaker
        words = driver.find_elements("css selector", "#transcript .word")
        assert len(words) > 10

        wait_for(driver, lambda d: script(d, "return document.getElementById('player').src"))
        assert str(script(driver, "return document.getElementById('player').src")).startswith(
            "blob:"
        )
        wait_for(
            driver, lambda d: script(d, "return document.getElementById('player').duration > 0")
        )
        later = words[len(words) // 2]
        start_s = float(later.get_attribute("data-start") or 0)
        later.click()
        position = script(driver, "return document.getElementById('player').currentTime")
        assert abs(float(position) - start_s) < 0.5
        # keyboard: the first word is the transcript's one tab stop; arrows move, Enter plays
        script(driver, "document.querySelector('#transcript .word[tabindex=\"0\"]').focus()")
        ActionChains(driver).send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT, Keys.ENTER).perform()
        assert driver.switch_to.active_element == words[2]
        position = script(driver, "return document.getElementById('player').currentTime")
        assert abs(float(position) - float(words[2].get_attribute("data-start") or 0)) < 0.5
        if SCREENSHOT:
            section = driver.find_element("id", "transcript-section")
            script(driver, "arguments[0].scrollIntoView()", section)
            section.screenshot(SCREENSHOT)

        driver.find_element("css selector", "button.download[data-format=srt]").click()
        srt = wait_for_file(tmp_path / "downloads", "call.srt").read_text()
        assert srt.startswith("1\n") and " --> " in srt
        driver.find_element("css selector", "button.download[data-format=docx]").click()
        docx = wait_for_file(tmp_path / "downloads", "call.docx").read_bytes()
        assert docx.startswith(b"PK")


# --- hostile strings -----------------------------------------------------------------

HOSTILE_NAME = "<img src=x onerror=window.__pwned=1>.wav"
HOSTILE_WORDS = ("<script>window.__pwned=2</script>", "<b>bold</b>", "&amp;", "fine.")


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiHarness]:
    harness = make_harness(tmp_path)
    yield harness
    harness.client.close()
    harness.store.close()


def hostile_transcript() -> Transcript:
    words = tuple(
        Word(text, 0.5 + i, 1.0 + i, 0.3 if i == 0 else 0.95, "A")
        for i, text in enumerate(HOSTILE_WORDS)
    )
    return Transcript((Segment(words, " ".join(HOSTILE_WORDS), "A"),), "eng", "whisper-base", 5.0)


def test_markup_in_a_file_name_and_a_transcript_shows_as_text(
    api: ApiHarness, tmp_path: Path
) -> None:
    _, headers = api.tenant("acme")
    key = headers["Authorization"].removeprefix("Bearer ")
    files = {"file": (HOSTILE_NAME, b"not really audio", "audio/wav")}
    created = api.client.post("/v1/jobs", headers=headers, files=files, data={"private": "true"})
    job = finish_job(api, created.json()["id"], hostile_transcript())
    assert job.source.key is not None
    api.objects.delete(job.source.bucket, job.source.key)  # a private job's audio after success

    with serving(api.client.app) as base_url, chromium(tmp_path / "browser") as driver:
        driver.get(base_url + "/")
        enter_key(driver, key)
        row = wait_for(driver, lambda d: job_row(d, HOSTILE_NAME))
        row.find_element("xpath", ".//button[text()='Open']").click()
        wait_for(driver, lambda d: d.find_elements("css selector", "#transcript .turn"))
        text = driver.find_element("id", "transcript").text
        for word in HOSTILE_WORDS:
            assert word in text
        heading = driver.find_element("id", "transcript-heading").text
        assert heading == f"Transcript: {HOSTILE_NAME}"
        injected = "return document.querySelectorAll('main script, main img, main b').length"
        assert script(driver, injected) == 0
        assert script(driver, "return window.__pwned === undefined") is True
        low = driver.find_elements("css selector", "#transcript .word.low")
        assert [w.text for w in low] == [HOSTILE_WORDS[0]]
        status = wait_for(driver, lambda d: d.find_element("id", "audio-status").text)
        assert "private" in status and "deleted" in status
        assert script(driver, "return document.getElementById('player').hidden") is True


def test_the_page_fits_a_phone(api: ApiHarness, tmp_path: Path) -> None:
    _, headers = api.tenant("acme")
    key = headers["Authorization"].removeprefix("Bearer ")
    with serving(api.client.app) as base_url, chromium(tmp_path, width=375, height=800) as driver:
        driver.get(base_url + "/")
        enter_key(driver, key)
        overflow = "return document.documentElement.scrollWidth - window.innerWidth"
        assert script(driver, overflow) <= 0
        # keyboard: the key field, its buttons and the form fields are reachable by Tab
        driver.find_element("id", "api-key").click()
        reached = set()
        for _ in range(12):
            ActionChains(driver).send_keys(Keys.TAB).perform()
            reached.add(driver.switch_to.active_element.get_attribute("id"))
        assert {"forget-key", "files", "url", "language"} <= reached


def test_several_files_and_a_url_are_submitted_with_the_options(
    api: ApiHarness, tmp_path: Path
) -> None:
    tenant, headers = api.tenant("acme")
    key = headers["Authorization"].removeprefix("Bearer ")
    names = ["first.wav", "second.wav"]
    for name in names:
        (tmp_path / name).write_bytes(b"RIFF not really audio")
    with serving(api.client.app) as base_url, chromium(tmp_path / "browser") as driver:
        driver.get(base_url + "/")
        enter_key(driver, key)
        paths = "\n".join(str(tmp_path / name) for name in names)
        driver.find_element("id", "files").send_keys(paths)
        driver.find_element("id", "url").send_keys("https://93.184.216.34/talk.mp3")
        Select(driver.find_element("id", "language")).select_by_value("afr")
        Select(driver.find_element("id", "band")).select_by_value("nb")
        Select(driver.find_element("id", "channels")).select_by_value("separate")
        driver.find_element("id", "domain").send_keys("PARL")
        driver.find_element("id", "punctuate").click()  # on by default: now off
        driver.find_element("id", "private").click()
        driver.find_element("id", "submit-button").click()
        wait_for(driver, lambda d: "3 job(s) queued" in d.find_element("id", "submit-status").text)
        for name in [*names, "https://93.184.216.34/talk.mp3"]:
            row = wait_for(driver, lambda d, name=name: job_row(d, name))
            assert row.find_element("css selector", ".status").text.startswith("queued")
            assert row.find_element("xpath", ".//button[text()='Open']").get_attribute("disabled")
    jobs, _ = api.store.list_jobs(tenant.id, status=None, limit=10, cursor=None)
    assert sorted(j.source.filename or j.source.url or "" for j in jobs) == sorted(
        [*names, "https://93.184.216.34/talk.mp3"]
    )
    for job in jobs:
        o = job.options
        assert (o.language, o.band, o.channels, o.domain) == ("afr", "nb", "separate", "PARL")
        assert (o.punctuate, o.private, o.diarize) == (False, True, False)
