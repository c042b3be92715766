"""Speaker diarisation on made conversations: quality and cost.

Conversations of alternating turns are made from distinct TTS voices (flite
slt, rms, awb, kal16; espeak-ng en+m3, en+f4). For each one the script
recognises the file (the pipeline without diarisation, timed), diarises the
same audio (timed), puts the speakers onto the words, and scores:

- word-level speaker accuracy under the best one-to-one label mapping;
- diarisation error rate (missed + false alarm + confusion, 10 ms grid, no collar);
- the number of speakers found (with ``auto``), also on mono 8 kHz telephone audio;
- cost: diarisation time as a fraction of recognition time on the same file.

Goals: 2 speakers (count given) >= 95 % words right; 3 speakers with ``auto``
>= 90 % and the right count. Needs the diarization extra.

    python bench/diarization.py [--conversations 3] [--turns 12] [--pause 0.5]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from conversation import (
    SAMPLE_RATE_HZ,
    Conversation,
    diarisation_error_rate,
    make_conversation,
    speaker_accuracy,
)
from scipy.signal import resample_poly
from speech import write_wav

from dsac_asr.diarization import assign_speakers, diarize, prepare
from dsac_asr.models.registry import ModelRegistry
from dsac_asr.pipeline import Pipeline, TranscriptionOptions

CONDITIONS: dict[str, tuple[int | None, list[list[str]]]] = {
    # name: (speakers given, or None for auto; voice sets, one per conversation in turn)
    "two_speakers_known": (
        2,
        [["slt", "rms"], ["rms", "awb"], ["awb", "kal16"], ["espeak:en+m3", "espeak:en+f4"]],
    ),
    "three_speakers_auto": (
        None,
        [["slt", "rms", "awb"], ["rms", "awb", "kal16"], ["slt", "espeak:en+f4", "awb"]],
    ),
    "one_speaker_auto": (None, [["rms"], ["espeak:en+m3"]]),
    "four_speakers_auto": (None, [["slt", "rms", "awb", "espeak:en+m3"]]),
    "two_speakers_8khz_auto": (None, [["rms", "awb"], ["slt", "kal16"], ["awb", "espeak:en+f4"]]),
}
TELEPHONE_RATE_HZ = 8000


def _score(
    conversation: Conversation,
    pipeline: Pipeline,
    path: Path,
    speakers: int | None,
    rate_hz: int = SAMPLE_RATE_HZ,
) -> dict[str, Any]:
    samples = conversation.samples
    if rate_hz != SAMPLE_RATE_HZ:  # a mono telephone recording
        samples = resample_poly(samples, rate_hz, SAMPLE_RATE_HZ).astype(np.float32)
    write_wav(path, [samples], rate_hz)
    started = time.perf_counter()
    transcript = pipeline.transcribe(path, TranscriptionOptions(language="eng"))
    recognition_s = time.perf_counter() - started
    started = time.perf_counter()
    turns = diarize(samples, rate_hz, speakers)
    diarisation_s = time.perf_counter() - started
    words = [w for s in assign_speakers(transcript.segments, turns) for w in s.words]
    reference = [conversation.voice_at(w.start_s, w.end_s) for w in words]
    spans = [(t.start_s, t.end_s, t.speaker) for t in turns]
    return {
        "voices": conversation.voices,
        "audio_s": round(len(conversation.samples) / SAMPLE_RATE_HZ, 1),
        "words": len(words),
        "word_accuracy": round(speaker_accuracy(reference, [w.speaker for w in words]), 4),
        "der": round(diarisation_error_rate(conversation.lines, spans), 4),
        "speakers_found": len({t.speaker for t in turns}),
        "speakers_true": len(conversation.voices),
        "recognition_s": round(recognition_s, 2),
        "diarisation_s": round(diarisation_s, 2),
    }


def _condition(
    name: str, args: argparse.Namespace, pipeline: Pipeline, work: Path
) -> list[dict[str, Any]]:
    speakers, voice_sets = CONDITIONS[name]
    runs = []
    for index in range(args.conversations):
        voices = voice_sets[index % len(voice_sets)]
        conversation = make_conversation(work, voices, args.turns, seed=index, pause_s=args.pause)
        rate = TELEPHONE_RATE_HZ if "8khz" in name else SAMPLE_RATE_HZ
        run = _score(conversation, pipeline, work / f"{name}{index}.wav", speakers, rate)
        print(json.dumps({"condition": name, **run}), flush=True)
        runs.append(run)
    return runs


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    words = sum(r["words"] for r in runs)
    return {
        "conversations": len(runs),
        "word_accuracy": round(sum(r["word_accuracy"] * r["words"] for r in runs) / words, 4),
        "worst_word_accuracy": min(r["word_accuracy"] for r in runs),
        "der": round(
            sum(r["der"] * r["audio_s"] for r in runs) / sum(r["audio_s"] for r in runs), 4
        ),
        "right_count": sum(r["speakers_found"] == r["speakers_true"] for r in runs),
        "diarisation_share_of_recognition": round(
            sum(r["diarisation_s"] for r in runs) / sum(r["recognition_s"] for r in runs), 3
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=3, help="per condition")
    parser.add_argument("--turns", type=int, default=12)
    parser.add_argument("--pause", type=float, default=0.5, help="seconds between turns")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pipeline = Pipeline(registry=ModelRegistry(work / "models"))
        started = time.perf_counter()
        prepare()
        load_s = time.perf_counter() - started
        warm = make_conversation(work, ["slt", "rms"], 2, seed=99)  # loads the models untimed
        _score(warm, pipeline, work / "warm.wav", 2)
        summaries = {name: _summary(_condition(name, args, pipeline, work)) for name in CONDITIONS}
    two, three = summaries["two_speakers_known"], summaries["three_speakers_auto"]
    goals = {
        "two_speakers_word_accuracy_ge_95": two["word_accuracy"] >= 0.95,
        "three_speakers_auto_word_accuracy_ge_90": three["word_accuracy"] >= 0.90,
        "three_speakers_auto_right_count": three["right_count"] == three["conversations"],
    }
    print(
        json.dumps(
            {"encoder_load_s": round(load_s, 2), "summaries": summaries, "goals": goals}, indent=2
        )
    )


if __name__ == "__main__":
    main()
