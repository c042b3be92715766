"""``models import-whisper`` and ``models import-ctc`` end to end: a checkpoint the test
builds is imported with the installed command, listed, and routed to for isiZulu by
``transcribe`` and by the service.

The models' weights are random, so the words are noise and are never asserted: the
tests check the routing, the transcript's shape and that word times are in order.
"""

from __future__ import annotations

import json
import subprocess
import wave
from pathlib import Path
from typing import Any

import pytest
from service_harness import base_env, create_key, dsac_executable, running_service, wait_for_job
from tiny_models import tiny_wav2vec2, tiny_whisper

from dsac_asr.storage import LocalObjectStore

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [dsac_executable(), *args], capture_output=True, text=True, env=env, timeout=600
    )


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An embedded service's environment with a tiny isiZulu Whisper fine-tune and a tiny
    Sesotho CTC model imported by the command line."""
    data_dir = tmp_path_factory.mktemp("imports")
    env = base_env(data_dir)
    whisper = tiny_whisper(data_dir / "hf-whisper")
    done = _run(
        "models", "import-whisper", str(whisper), "--id", "zul-whisper-tiny",
        "--language", "zul", "--language-token", "sw", env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "language token: sw" in done.stdout
    ctc = tiny_wav2vec2(data_dir / "hf-ctc")
    done = _run(
        "models", "import-ctc", str(ctc), "--id", "sot-ctc-tiny", "--language", "sot", env=env
    )
    assert done.returncode == 0, done.stderr
    return env


def _duration_s(path: Path) -> float:
    with wave.open(str(path)) as audio:
        return audio.getnframes() / audio.getframerate()


def _words(result: dict[str, Any]) -> list[dict[str, Any]]:
    assert list(result) == ["results"]
    return [w for r in result["results"] for a in r["alternatives"] for w in a["words"]]


def check_times(words: list[dict[str, Any]], duration_s: float) -> None:
    """Each word within the audio, ending after it starts, the next starting no earlier."""
    starts = [w["startTime"] for w in words]
    assert starts == sorted(starts)
    for word in words:
        assert 0 <= word["startTime"] <= word["endTime"] <= duration_s + 0.01
        assert 0 <= word["confidence"] <= 1 and word["word"].strip()


def test_imported_models_are_listed_with_their_engines(env: dict[str, str]) -> None:
    done = _run("models", "list", "--json", env=env)
    assert done.returncode == 0, done.stderr
    rows = {row["id"]: row for row in json.loads(done.stdout)}
    assert rows["zul-whisper-tiny"]["engine"] == "whisper"
    assert rows["zul-whisper-tiny"]["languages"] == "zul"
    assert rows["sot-ctc-tiny"]["engine"] == "ctc"
    assert "Dutch-like" in rows["whisper-base"]["quality"]


@pytest.mark.parametrize(
    ("language", "model"), [("zul", "zul-whisper-tiny"), ("sto", "sot-ctc-tiny")]
)
def test_transcribe_routes_the_language_to_the_imported_model(
    env: dict[str, str], english_wav: Path, language: str, model: str
) -> None:
    """No other installed model serves the language, so success means it was routed
    there; the result equals the one of the model asked for by id."""
    done = _run("transcribe", str(english_wav), "--language", language, env=env)
    assert done.returncode == 0, done.stderr
    routed = json.loads(done.stdout)
    check_times(_words(routed), _duration_s(english_wav))
    if model.startswith("sot-ctc"):
        assert _words(routed), "a random CTC network still emits letters"
    done = _run("transcribe", str(english_wav), "--language", language, "-m", model, env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == routed


def test_the_service_routes_isizulu_to_the_imported_model(
    env: dict[str, str], english_wav: Path, tmp_path: Path
) -> None:
    key = create_key(env, "acme", "media")
    objects = LocalObjectStore(Path(env["DSAC_DATA_DIR"]) / "objects")
    objects.put_bytes("media", "in/fox.wav", english_wav.read_bytes(), "audio/wav")
    with running_service(env, tmp_path / "serve.log") as service, service.client(key) as api:
        listed = {m["id"]: m for m in api.get("/v1/models").json()["data"]}
        assert listed["zul-whisper-tiny"]["languages"] == ["zul"]
        assert listed["sot-ctc-tiny"]["engine"] == "ctc"
        assert "Dutch-like" in listed["whisper-base"]["quality"]["afr"]
        jobs = {}
        for language in ("zul", "sot"):
            response = api.post(
                "/v1/jobs",
                files={"file": ("fox.wav", english_wav.read_bytes(), "audio/wav")},
                data={"language": language},
            )
            assert response.status_code == 202, response.text
            jobs[language] = response.json()["id"]
        for language, model in (("zul", "zul-whisper-tiny"), ("sot", "sot-ctc-tiny")):
            job = wait_for_job(api, jobs[language])
            assert job["status"] == "succeeded", job
            assert job["model"] == model
            result = api.get(f"/v1/jobs/{jobs[language]}/transcript", params={"format": "json"})
            check_times(_words(result.json()), _duration_s(english_wav))
        seed = api.post("/legacy/decode", headers=_seed_headers(key, "zul"))
        assert seed.status_code == 200, seed.text
        job = wait_for_job(api, seed.json()["job_id"])
        assert job["status"] == "succeeded" and job["model"] == "zul-whisper-tiny", job
    assert "results" in json.loads(objects.get_bytes("media", "decoded/zul-tag.json"))


def _seed_headers(key: str, language: str) -> dict[str, str]:
    """The seed front end's submission headers (``DEC_LANG`` the language)."""
    return {
        "X_API_KEY": key, "DEC_LANG": language, "SR": "BB", "NUM_CHANNELS": "1", "SAC": "yes",
        "DIA": "no", "BUCKET_NAME": "media", "OBJECT_PATH": "in/fox.wav", "USER_ID": "u-1",
        "TAG": f"{language}-tag",
    }  # fmt: skip
