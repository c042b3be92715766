"""Job service: submit-to-start latency, throughput vs the raw engine, GET latency under load.

    python bench/service_throughput.py [--clips 20] [--model whisper-base] [--quick]

Makes short clips (3-6 s of English from flite voices) in bench/out/service_clips,
then, each time against a fresh ``dsac-asr serve`` on a loopback port with an
embedded data dir (SQLite, local folder, filesystem queue):

1. with one idle, warm worker: submit one job at a time and wait for it;
   latency = ``started_at - created_at`` (server timestamps); p50, p95.
2. submit all clips at once with ``--workers`` 1 and 2 (one warm-up job per
   worker first, excluded): wall time from the first submit to the last
   ``finished_at``, jobs per minute, and the ratio to the raw engine (one
   process, model loaded once, same files back to back; ``raw_batch.py``).
3. while workers are busy with another batch: GET /v1/jobs/{id} at a fixed
   rate (open loop, 10 ms apart for 100/s) for ``--get-seconds``; p50, p99,
   the rate achieved and errors.

The issue's goal for short jobs: (a) the 20 clips submitted at once to a
service with the default worker count (1; it batches short jobs) finish in
at most 0.55x the time of (b) the raw engine on the same clips back to back,
with a WER at most 0.5 points above (b)'s; printed as the "goal" line.
``--job-batch-size`` / ``--isolated-windows`` set ``DSAC_JOB_BATCH_SIZE`` /
``DSAC_JOB_BATCH_SHARE_WINDOWS=false`` for the service (default: its defaults).

Figures are printed as JSON and one line each; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import jiwer
import numpy as np
from corpus import SAMPLE_RATE_HZ, VOICES, normalize_text, write_mono_wav  # puts tests/ on path
from machine_load import LoadMeter
from service_harness import Service, base_env, create_key
from speech import SENTENCES, concatenate_speech

HERE = Path(__file__).parent
FINAL = ("succeeded", "failed", "cancelled")
MIN_CLIP_S, MAX_CLIP_S = 3.0, 6.0
GOAL_TIME_RATIO, GOAL_WER_POINTS = 0.55, 0.5


@dataclass(frozen=True)
class Clip:
    """One short audio file and what it says."""

    path: Path
    text: str
    duration_s: float


def make_clips(folder: Path, count: int) -> list[Clip]:
    """``count`` clips of 3-6 s: one or two sentences by one voice, padded with silence to 3 s."""
    folder.mkdir(parents=True, exist_ok=True)
    clips: list[Clip] = []
    sentence = 0
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(count):
            voice = VOICES[index % len(VOICES)]
            pair = [SENTENCES[(sentence + k) % len(SENTENCES)] for k in (0, 1)]
            audio, _spans = concatenate_speech(Path(tmp), [(voice, t) for t in pair], 16000, 0.3)
            if len(audio) > MAX_CLIP_S * SAMPLE_RATE_HZ:
                pair = pair[:1]
                audio, _spans = concatenate_speech(Path(tmp), [(voice, pair[0])], 16000, 0.3)
            sentence += len(pair)
            short = int(MIN_CLIP_S * SAMPLE_RATE_HZ) - len(audio)
            if short > 0:
                audio = np.concatenate([audio, np.zeros(short, dtype=np.float32)])
            path = write_mono_wav(folder / f"clip{index:02d}.wav", audio)
            clips.append(Clip(path, " ".join(pair), len(audio) / SAMPLE_RATE_HZ))
    return clips


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (linear interpolation), None for no values."""
    return float(np.percentile(values, q)) if values else None


def _ts(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


class Bench:
    """One running service, a key, and the calls the measurements need."""

    def __init__(self, service: Service, key: str, model: str) -> None:
        self.service, self.model = service, model
        self.api = service.client(key)
        self.key = key

    def submit(self, clip: Clip) -> str:
        """Upload ``clip`` as a job; its id."""
        with clip.path.open("rb") as audio:
            answer = self.api.post(
                "/v1/jobs",
                files={"file": (clip.path.name, audio, "audio/wav")},
                data={"language": "eng", "model": self.model},
            )
        if answer.status_code != 202:
            raise SystemExit(f"submit failed: {answer.status_code} {answer.text}")
        return str(answer.json()["id"])

    def job(self, job_id: str) -> dict[str, Any]:
        """The job's current state."""
        job: dict[str, Any] = self.api.get(f"/v1/jobs/{job_id}").json()
        return job

    def wait_one(self, job_id: str, timeout_s: float = 300) -> dict[str, Any]:
        """Poll one job every 0.2 s until final."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            job = self.job(job_id)
            if job["status"] in FINAL:
                return job
            time.sleep(0.2)
        raise SystemExit(f"job {job_id} not finished in {timeout_s} s: {self.service.log_tail()}")

    def all_jobs(self) -> dict[str, dict[str, Any]]:
        """Every job of the tenant, by id (one page of up to 200, newest first)."""
        answer = self.api.get("/v1/jobs", params={"limit": 200}).json()
        return {job["id"]: job for job in answer["jobs"]}

    def wait_all(self, ids: Sequence[str], timeout_s: float) -> dict[str, dict[str, Any]]:
        """Poll the job list every 0.5 s until all ``ids`` are final."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            jobs = self.all_jobs()
            if all(jobs.get(i, {}).get("status") in FINAL for i in ids):
                return {i: jobs[i] for i in ids}
            time.sleep(0.5)
        raise SystemExit(f"batch not finished in {timeout_s} s: {self.service.log_tail()}")

    def warm_up(self, clips: Sequence[Clip], workers: int) -> list[dict[str, Any]]:
        """One job per worker process at once, so each loads the model before measuring."""
        ids = [self.submit(clips[i % len(clips)]) for i in range(workers)]
        return list(self.wait_all(ids, timeout_s=300).values())

    def transcript_text(self, job_id: str) -> str:
        """The finished job's plain-text transcript."""
        return self.api.get(f"/v1/jobs/{job_id}/transcript", params={"format": "txt"}).text


def start_to_run(bench: Bench, clips: Sequence[Clip], samples: int) -> dict[str, Any]:
    """Submit-to-start latency with an idle worker: one job at a time."""
    latencies, turnarounds = [], []
    meter = LoadMeter()
    for index in range(samples):
        time.sleep(0.5)  # let the worker go idle (ack, poll loop) after the previous job
        job = bench.wait_one(bench.submit(clips[index % len(clips)]))
        if job["status"] != "succeeded" or job["started_at"] is None:
            print(f"latency sample {index}: job {job['status']}: {job.get('error')}")
            continue
        latencies.append(_ts(job["started_at"]) - _ts(job["created_at"]))
        turnarounds.append(_ts(job["finished_at"]) - _ts(job["created_at"]))
    return {
        "samples": len(latencies),
        "p50_s": percentile(latencies, 50),
        "p95_s": percentile(latencies, 95),
        "max_s": max(latencies, default=None),
        "latencies_s": [round(v, 4) for v in latencies],
        "turnaround_p50_s": percentile(turnarounds, 50),
        "machine": meter.stop(),
    }


def batch(bench: Bench, clips: Sequence[Clip], timeout_s: float) -> dict[str, Any]:
    """Submit every clip at once; time from the first submit to the last finish."""
    meter = LoadMeter()
    first_submit = time.time()
    ids = [bench.submit(clip) for clip in clips]
    submitted = time.time()
    jobs = bench.wait_all(ids, timeout_s)
    machine = meter.stop()
    finished = [_ts(j["finished_at"]) for j in jobs.values() if j["finished_at"]]
    ok = [j for j in jobs.values() if j["status"] == "succeeded"]
    wall_s = max(finished) - first_submit
    processing = [j["processing_s"] for j in ok if j["processing_s"] is not None]
    waits = [_ts(j["started_at"]) - _ts(j["created_at"]) for j in ok if j["started_at"]]
    ok_ids = {j["id"] for j in ok}
    hypothesis = " ".join(bench.transcript_text(i) for i in ids if i in ok_ids)
    reference = " ".join(c.text for c, i in zip(clips, ids, strict=True) if i in ok_ids)
    return {
        "jobs": len(ids),
        "succeeded": len(ok),
        "failed": {i: j["error"] for i, j in jobs.items() if j["status"] != "succeeded"},
        "submit_s": submitted - first_submit,
        "wall_s": wall_s,
        "jobs_per_min": 60 * len(ok) / wall_s,
        "processing_s": {
            "sum": sum(processing),
            "min": min(processing, default=None),
            "p50": percentile(processing, 50),
            "max": max(processing, default=None),
        },
        "queue_wait_max_s": max(waits, default=None),
        "timeline_s": _timeline(ok, first_submit),
        "wer": jiwer.wer(normalize_text(reference), normalize_text(hypothesis)) if ok else None,
        "machine": machine,
    }


def _timeline(jobs: list[dict[str, Any]], since: float) -> list[tuple[float, float]]:
    """Each job's (start, finish), seconds after ``since``, in order: shows the batches."""
    spans = [
        (round(_ts(j["started_at"]) - since, 2), round(_ts(j["finished_at"]) - since, 2))
        for j in jobs
        if j["started_at"] and j["finished_at"]
    ]
    return sorted(spans)


def _one_get(
    client: httpx.Client, job_id: str, scheduled: float
) -> tuple[float, float, float, str]:
    sent = time.perf_counter()
    try:
        status = str(client.get(f"/v1/jobs/{job_id}").status_code)
    except httpx.HTTPError as exc:
        status = type(exc).__name__
    return scheduled, sent, time.perf_counter(), status


def get_load(
    base_url: str, key: str, ids: Sequence[str], rate: float, seconds: float, threads: int
) -> dict[str, Any]:
    """Open-loop GET /v1/jobs/{id}: requests scheduled ``1/rate`` apart, sent from a pool."""
    count = int(rate * seconds)
    limits = httpx.Limits(max_connections=threads, max_keepalive_connections=threads)
    headers = {"Authorization": f"Bearer {key}"}
    with (
        httpx.Client(base_url=base_url, headers=headers, timeout=5, limits=limits) as client,
        ThreadPoolExecutor(threads) as pool,
    ):
        start = time.perf_counter() + 0.05
        futures = []
        for index in range(count):
            scheduled = start + index / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(_one_get, client, ids[index % len(ids)], scheduled))
        results = [f.result(timeout=30) for f in futures]
    ok = [r for r in results if r[3] == "200"]
    send_ms = [(r[2] - r[1]) * 1000 for r in ok]
    sched_ms = [(r[2] - r[0]) * 1000 for r in ok]
    errors: dict[str, int] = {}
    for r in results:
        if r[3] != "200":
            errors[r[3]] = errors.get(r[3], 0) + 1
    first, last_sent = results[0][1], max(r[1] for r in results)
    last_done = max(r[2] for r in results)
    late = [(r[1] - r[0]) * 1000 for r in results]
    return {
        "requests": count,
        "target_per_s": rate,
        "sent_per_s": (count - 1) / (last_sent - first) if count > 1 else None,
        "completed_per_s": len(ok) / (last_done - start),
        "errors": errors,
        "p50_ms": percentile(send_ms, 50),
        "p99_ms": percentile(send_ms, 99),
        "max_ms": max(send_ms, default=None),
        "from_schedule_p50_ms": percentile(sched_ms, 50),
        "from_schedule_p99_ms": percentile(sched_ms, 99),
        "send_lateness_p99_ms": percentile(late, 99),
    }


def get_latency_under_load(
    bench: Bench, clips: Sequence[Clip], jobs_per_s: float, workers: int, args: argparse.Namespace
) -> dict[str, Any]:
    """Keep the workers busy with another batch and measure GET latency meanwhile."""
    needed = math.ceil(jobs_per_s * (args.get_seconds + 5)) + workers
    load_clips = [clips[i % len(clips)] for i in range(max(needed, 2 * workers))]
    ids = [bench.submit(clip) for clip in load_clips]
    time.sleep(1.0)  # let the workers pick jobs up
    before = bench.all_jobs()
    meter = LoadMeter()
    result = get_load(
        bench.service.base_url, bench.key, ids, args.get_rate, args.get_seconds, args.get_threads
    )
    result["machine"] = meter.stop()
    after = bench.all_jobs()
    result["running_at_start"] = sum(before[i]["status"] == "running" for i in ids)
    result["running_at_end"] = sum(after[i]["status"] == "running" for i in ids)
    result["load_jobs"] = len(ids)
    bench.wait_all(ids, timeout_s=60 + 30 * len(ids))
    return result


def log_problems(log_path: Path) -> dict[str, int]:
    """Distinct serve-log lines that mention errors, warnings or tracebacks, with counts."""
    words = ("ERROR", "WARNING", "Warning", "Traceback", "CRITICAL", "Exception")
    counts: dict[str, int] = {}
    for line in log_path.read_text(errors="replace").splitlines():
        if any(w in line for w in words):
            message = re.sub(r"^\d{4}-\d\d-\d\d [\d:,]+ ", "", line)[:300]
            counts[message] = counts.get(message, 0) + 1
    return counts


def run_service(
    workers: int,
    clips: Sequence[Clip],
    args: argparse.Namespace,
    work: Path,
    measure: Callable[[Bench], dict[str, Any]],
) -> dict[str, Any]:
    """A fresh embedded service with ``workers``; ``measure`` runs against it."""
    with tempfile.TemporaryDirectory(prefix="dsac-bench-") as tmp:
        env = base_env(Path(tmp) / "data")
        if 3 * len(clips) > 90:  # the batch and the GET-load batch must fit the active-job cap
            env["DSAC_MAX_ACTIVE_JOBS_PER_TENANT"] = str(4 * len(clips))
        if args.job_batch_size is not None:
            env["DSAC_JOB_BATCH_SIZE"] = str(args.job_batch_size)
        if args.isolated_windows:
            env["DSAC_JOB_BATCH_SHARE_WINDOWS"] = "false"
        key = create_key(env, "bench")
        log_path = work / f"serve-workers{workers}.log"
        log_path.unlink(missing_ok=True)
        service = Service(env, log_path)
        started = time.monotonic()
        service.start(workers, timeout_s=180)
        ready_s = time.monotonic() - started
        bench = Bench(service, key, args.model)
        try:
            warm = time.monotonic()
            warm_jobs = bench.warm_up(clips, workers)
            report = {
                "workers": workers,
                "ready_s": ready_s,
                "warm_up_s": time.monotonic() - warm,
                "warm_up_processing_s": [j["processing_s"] for j in warm_jobs],
                **measure(bench),
            }
        finally:
            bench.api.close()
            stopping = time.monotonic()
            status = service.stop(timeout_s=180)
        report["stop_s"] = time.monotonic() - stopping
        report["exit_status"] = status
        report["log_problems"] = log_problems(log_path)
        return report


def raw_baseline(clips: Sequence[Clip], model: str) -> dict[str, Any]:
    """faster-whisper in one process, model loaded once, the clips back to back."""
    command = [sys.executable, str(HERE / "raw_batch.py"), model, *(str(c.path) for c in clips)]
    meter = LoadMeter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False)
    machine = meter.stop()
    if done.returncode != 0:
        raise SystemExit(f"raw baseline failed: {done.stderr[-2000:]}")
    raw: dict[str, Any] = json.loads(done.stdout)
    reference = normalize_text(" ".join(c.text for c in clips))
    return {
        "load_s": raw["load_s"],
        "wall_s": raw["wall_s"],
        "jobs_per_min": 60 * len(clips) / raw["wall_s"],
        "per_file_p50_s": statistics.median(raw["per_file_s"]),
        "wer": jiwer.wer(reference, normalize_text(" ".join(raw["texts"]))),
        "machine": machine,
    }


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clips", type=int, default=20)
    parser.add_argument("--model", default="whisper-base")
    parser.add_argument("--latency-samples", type=int, default=15)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--get-rate", type=float, default=100.0)
    parser.add_argument("--get-seconds", type=float, default=10.0)
    parser.add_argument("--get-threads", type=int, default=8)
    parser.add_argument(
        "--raw-repeats", type=int, default=2, help="raw runs, first before the service, best counts"
    )
    parser.add_argument("--quick", action="store_true", help="6 clips, 5 samples, 3 s of GETs")
    parser.add_argument("--job-batch-size", type=int, default=None)
    parser.add_argument("--isolated-windows", action="store_true")
    parser.add_argument("--no-get-load", action="store_true", help="skip the GET latency test")
    args = parser.parse_args()
    if args.quick:
        args.clips, args.latency_samples, args.get_seconds = 6, 5, 3.0
    work = HERE / "out"
    clips = make_clips(work / "service_clips", args.clips)
    load_before = os.getloadavg()
    raw_runs = [raw_baseline(clips, args.model)]
    runs = []
    latency: dict[str, Any] | None = None
    for workers in args.workers:

        def measure(bench: Bench, workers: int = workers) -> dict[str, Any]:
            nonlocal latency
            if workers == 1:
                latency = start_to_run(bench, clips, args.latency_samples)
            result = batch(bench, clips, timeout_s=120 + 60 * len(clips))
            rate = result["succeeded"] / result["wall_s"]
            if not args.no_get_load:
                result["get_under_load"] = get_latency_under_load(bench, clips, rate, workers, args)
            return result

        runs.append(run_service(workers, clips, args, work, measure))
    raw_runs += [raw_baseline(clips, args.model) for _ in range(args.raw_repeats - 1)]
    raw = min(raw_runs, key=lambda r: r["wall_s"])
    for run in runs:
        run["ratio_to_raw"] = run["jobs_per_min"] / raw["jobs_per_min"]
    report = {
        "model": args.model,
        "clips": len(clips),
        "clip_s": {
            "min": min(c.duration_s for c in clips),
            "max": max(c.duration_s for c in clips),
            "total": sum(c.duration_s for c in clips),
        },
        "cpus": os.cpu_count(),
        "load_avg_before": load_before,
        "load_avg_after": os.getloadavg(),
        "submit_to_start": latency,
        "raw": raw,
        "raw_runs": [{"transcribe_wall_s": r["wall_s"], **r["machine"]} for r in raw_runs],
        "service": runs,
        "goal": short_jobs_goal(runs, raw),
        "job_batching": {"size": args.job_batch_size, "isolated": args.isolated_windows},
    }
    print(json.dumps(report, indent=2))
    _human(report)


def short_jobs_goal(runs: list[dict[str, Any]], raw: dict[str, Any]) -> dict[str, Any] | None:
    """(a) the one-worker service's wall time and WER against (b) the raw engine's."""
    service = next((run for run in runs if run["workers"] == 1), None)
    if service is None or service["wer"] is None:
        return None
    ratio = service["wall_s"] / raw["wall_s"]
    gap_points = 100 * (service["wer"] - raw["wer"])
    return {
        "service_wall_s": service["wall_s"],
        "raw_wall_s": raw["wall_s"],
        "time_ratio": ratio,
        "time_ratio_goal": GOAL_TIME_RATIO,
        "service_wer": service["wer"],
        "raw_wer": raw["wer"],
        "wer_gap_points": gap_points,
        "met": ratio <= GOAL_TIME_RATIO and gap_points <= GOAL_WER_POINTS,
    }


def _others(machine: dict[str, Any]) -> str:
    return f"other work {machine['other_cpu_share']:.0%} of the CPUs"


def _human(report: dict[str, Any]) -> None:
    raw = report["raw"]
    goal = report["goal"]
    if goal is not None:
        print(
            f"goal (a)/(b): service {goal['service_wall_s']:.1f} s / raw "
            f"{goal['raw_wall_s']:.1f} s = {goal['time_ratio']:.2f} (goal <= "
            f"{GOAL_TIME_RATIO}), WER {goal['service_wer']:.1%} vs {goal['raw_wer']:.1%} "
            f"({goal['wer_gap_points']:+.1f} points, goal <= +{GOAL_WER_POINTS}): "
            f"{'met' if goal['met'] else 'NOT met'}"
        )
    if report["submit_to_start"]:
        lat = report["submit_to_start"]
        print(
            f"submit-to-start, idle warm worker ({lat['samples']} jobs): "
            f"p50 {lat['p50_s'] * 1000:.0f} ms, p95 {lat['p95_s'] * 1000:.0f} ms, "
            f"max {lat['max_s'] * 1000:.0f} ms ({_others(lat['machine'])})"
        )
    runs = ", ".join(f"{r['transcribe_wall_s']:.1f}" for r in report["raw_runs"])
    print(
        f"raw engine, {report['clips']} clips back to back: {raw['jobs_per_min']:.1f} jobs/min "
        f"(best of {runs} s; load {raw['load_s']:.1f} s excluded), WER {raw['wer']:.1%} "
        f"({_others(raw['machine'])})"
    )
    for run in report["service"]:
        print(
            f"service, {run['workers']} worker(s), {run['jobs']} jobs at once: "
            f"{run['jobs_per_min']:.1f} jobs/min ({run['wall_s']:.1f} s), "
            f"ratio to raw {run['ratio_to_raw']:.2f}, {run['succeeded']}/{run['jobs']} succeeded, "
            f"WER {run['wer']:.1%} ({_others(run['machine'])})"
        )
        if "get_under_load" in run:
            _print_get_load(run["get_under_load"], run["workers"])
        if run["log_problems"]:
            problems = sum(run["log_problems"].values())
            print(f"  serve log ({run['workers']} workers): {problems} warning/error lines")


def _print_get_load(get: dict[str, Any], workers: int) -> None:
    print(
        f"GET /v1/jobs/{{id}} at {get['target_per_s']:.0f}/s with {workers} busy "
        f"worker(s): p50 {get['p50_ms']:.1f} ms, p99 {get['p99_ms']:.1f} ms, "
        f"max {get['max_ms']:.0f} ms, achieved {get['completed_per_s']:.1f}/s, "
        f"errors {get['errors'] or 'none'} ({_others(get['machine'])})"
    )


if __name__ == "__main__":
    main()
