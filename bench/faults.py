"""Nothing lost under faults: jobs, results and callbacks through kill -9 and a receiver outage.

    python bench/faults.py [--jobs 50] [--down-s 60] [--kills 6] [--model whisper-tiny.en]
    python bench/faults.py --quick        # 12 jobs, receiver down 40 s, 3 kills
    python bench/faults.py --distributed  # PostgreSQL + Redis, `dsac-asr api` + 2 workers

Against a fresh ``dsac-asr serve`` (embedded: SQLite, local folder, filesystem
queue) on loopback:

1. makes ``--jobs`` short synthetic clips (3-6 s, flite voices) and submits them
   all at once, each with a ``callback_url`` on a loopback receiver that is down
   (nothing listens on its port) until ``--down-s`` seconds after the first job
   finished (so callbacks wait for it whatever the machine's speed);
2. while jobs run, kills -9 a worker's job process (one per job slot) at random
   moments (``--kills`` times, 3-10 s apart; the worker starts a new one and
   expires the job's lease at once, not counting the kill as a crash, and the
   sweeper puts the job back), and once, halfway through the receiver's outage
   (callbacks are waiting), kills -9 the whole service
   (serve, its worker and its job processes) and starts it again on the same
   data dir (with ``--stop-grace-s G``: stops it as an orchestrator does,
   SIGTERM and then kill -9 of what is left after G seconds, as ``docker stop``
   or a spot interruption would). By default a process blocked in a pipe read is spared: that was
   the former Celery prefork pool's idle wait for a task, and one killed there
   hung the worker (Celery issue #2011); job processes are now single-process
   Celery workers, killed idle or busy alike. ``--kill-idle`` spares none; a
   run in which no job finishes for a while stops with ``stalled``);
3. when every job is final and the receiver is up, waits for the callbacks.

Printed (each must be 0): jobs lost (not succeeded), results duplicated (more
than one result object for a job, or result objects of no job), results
missing (a succeeded job without its object), callbacks lost (a final job
whose event never reached the receiver with a 2xx), callbacks duplicated
(deliveries beyond the first of an event), and events with more than one
``webhook-id``. The callback schedule is compressed for the run
(``DSAC_CALLBACK_RETRY_S``, ``--retry-s``); the default schedule is a day long.
``--distributed`` runs the same against ``dsac-asr api`` and two ``dsac-asr
worker`` processes (each with its sweeper) on a fresh PostgreSQL database and a
redis-server of its own, sharing a local object folder; "the whole service" is
then the API and both workers.
Figures are printed as JSON and one line each; nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import corpus  # noqa: F401  (puts tests/ on the path)
import httpx
from http_servers import Handler, LoopbackServer, Received
from service_harness import (
    Service,
    base_env,
    child_pids,
    create_key,
    dsac_executable,
    free_port,
    job_processes,
)
from service_throughput import Clip, make_clips

HERE = Path(__file__).parent
FINAL = ("succeeded", "failed", "cancelled")
DEFAULT_RETRY_S = "2,4,8,15,20,20,20,20,20,20,20,20,20,20,20"


@dataclass
class Receiver:
    """A callback receiver on a fixed loopback port, down until ``start``."""

    port: int = field(default_factory=free_port)
    deliveries: list[tuple[str, str]] = field(default_factory=list)  # (webhook-id, job id)
    server: LoopbackServer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, job_index: int) -> str:
        return f"http://127.0.0.1:{self.port}/hook/{job_index}"

    def start(self) -> None:
        """Listen from now on; every POST is recorded and answered 204."""

        def respond(handler: Handler, received: Received) -> None:
            job_id = json.loads(received.body)["data"]["job"]["id"]
            with self.lock:
                self.deliveries.append((received.headers.get("webhook-id", ""), job_id))
            handler.reply(204)

        self.server = LoopbackServer(respond, port=self.port)
        self.server.start()

    def close(self) -> None:
        if self.server is not None:
            self.server.close()


class Run:
    """The service under test, restarted on the same data dir when killed."""

    def __init__(self, env: dict[str, str], folder: Path, workers: int) -> None:
        self.env, self.folder, self.workers = env, folder, workers
        self.key = create_key(env, "faults")
        self.starts = 0
        self.service = self._start()

    def _start(self) -> Service:
        self.starts += 1
        service = Service(self.env, self.folder / f"serve{self.starts}.log")
        service.start(self.workers)
        return service

    def kill_pool_process(self, rng: random.Random, idle_too: bool) -> bool:
        """kill -9 one worker pool process (a Celery prefork child); False if none fits."""
        assert self.service.process is not None
        return _kill_one_job_process(child_pids(self.service.process.pid), rng, idle_too)

    def kill_everything_and_restart(self, grace_s: float | None = None) -> None:
        """kill -9 serve, its worker and the pool (after SIGTERM and ``grace_s``
        seconds, when given); start serve again."""
        process = self.service.process
        assert process is not None
        tree = _descendants([process.pid])
        if grace_s is not None:
            process.send_signal(signal.SIGTERM)
            time.sleep(grace_s)
        for pid in [*tree, process.pid]:
            _kill(pid)
        process.wait(10)
        self.service = self._start()

    def client(self) -> httpx.Client:
        return self.service.client(self.key)

    def stop(self) -> None:
        _stop(self.service)

    def jobs(self) -> dict[str, dict[str, Any]]:
        with self.client() as api:
            page = api.get("/v1/jobs", params={"limit": 200}).json()
        return {job["id"]: job for job in page["jobs"]}

    def job(self, job_id: str) -> dict[str, Any]:
        with self.client() as api:
            found: dict[str, Any] = api.get(f"/v1/jobs/{job_id}").json()
        return found


def _kill_one_job_process(workers: list[int], rng: random.Random, idle_too: bool) -> bool:
    """kill -9 one job process of ``workers`` (busy ones only unless ``idle_too``);
    False if none fits."""
    pool = [pid for worker in workers for pid in job_processes(worker)]
    if not idle_too:
        pool = [pid for pid in pool if not _idle_in_queue_read(pid)]
    if not pool:
        return False
    _kill(rng.choice(pool))
    return True


def _idle_in_queue_read(pid: int) -> bool:
    """Whether the pool process waits for a task (blocked reading the queue's pipe)."""
    try:
        return Path(f"/proc/{pid}/wchan").read_text().strip() in ("anon_pipe_read", "pipe_read")
    except OSError:
        return True


def _descendants(parents: list[int]) -> list[int]:
    """The children and grandchildren of ``parents``, read now (to kill them even once
    their parents are gone), grandchildren first."""
    children = [child for parent in parents for child in child_pids(parent)]
    return [pid for child in children for pid in [*child_pids(child), child]]


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


class DistributedRun(Run):
    """``dsac-asr api`` and two ``dsac-asr worker`` processes on PostgreSQL and Redis."""

    def __init__(self, env: dict[str, str], folder: Path, workers: int) -> None:
        self.env, self.folder, self.workers = env, folder, workers
        self.key = create_key(env, "faults")
        self.starts = 0
        self.port = free_port()
        self.processes: list[subprocess.Popen[bytes]] = []
        self._start_all()

    def _start_all(self) -> None:
        self.starts += 1
        self.processes = [self._spawn("api", "api", "--port", str(self.port))]
        for index in range(2):
            concurrency = str(self.workers)
            self.processes.append(
                self._spawn(f"worker{index}", "worker", "--concurrency", concurrency)
            )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=2).status_code == 200:
                    return
            time.sleep(0.3)
        raise SystemExit("the API did not get ready")

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.folder / f"{name}-{self.starts}.log").open("ab")
        command = [dsac_executable(), *args]
        return subprocess.Popen(command, env=self.env, stdout=log, stderr=log)

    def client(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.key}"}
        return httpx.Client(base_url=f"http://127.0.0.1:{self.port}", headers=headers, timeout=30)

    def kill_pool_process(self, rng: random.Random, idle_too: bool) -> bool:
        workers = [process.pid for process in self.processes[1:]]
        return _kill_one_job_process(workers, rng, idle_too)

    def kill_everything_and_restart(self, grace_s: float | None = None) -> None:
        tree = _descendants([process.pid for process in self.processes])
        if grace_s is not None:
            for process in self.processes:
                process.send_signal(signal.SIGTERM)
            time.sleep(grace_s)
        for pid in [*tree, *(process.pid for process in self.processes)]:
            _kill(pid)
        for process in self.processes:
            process.wait(10)
        self._start_all()

    def stop(self) -> None:
        tree = [pid for p in self.processes for pid in [p.pid, *child_pids(p.pid)]]
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(30)
        for pid in tree:
            _kill(pid)


@contextlib.contextmanager
def distributed_env(data_dir: Path) -> Iterator[dict[str, str]]:
    """A fresh PostgreSQL database and a redis-server for one run."""
    from postgres_db import postgres_database
    from redis_server import running_redis

    with postgres_database() as database_url, running_redis() as broker_url:
        env = base_env(data_dir)
        env.update(DSAC_DATABASE_URL=database_url, DSAC_BROKER_URL=broker_url,
                   DSAC_SECRET_KEY="faults-bench-sealing-key")  # fmt: skip
        yield env


def _stop(service: Service) -> None:
    """SIGTERM, then kill -9 of what is left (a hung worker does not stop by itself)."""
    process = service.process
    assert process is not None
    tree = _descendants([process.pid])
    with contextlib.suppress(AssertionError):  # it did not stop in time
        service.stop(timeout_s=30)
    for pid in tree:
        _kill(pid)


def submit_all(run: Run, clips: list[Clip], receiver: Receiver, model: str) -> list[str]:
    ids = []
    with run.client() as api:
        for index, clip in enumerate(clips):
            with clip.path.open("rb") as audio:
                answer = api.post(
                    "/v1/jobs",
                    files={"file": (clip.path.name, audio, "audio/wav")},
                    data={"language": "eng", "model": model, "callback_url": receiver.url(index)},
                )
            if answer.status_code != 202:
                raise SystemExit(f"submit failed: {answer.status_code} {answer.text}")
            ids.append(str(answer.json()["id"]))
    return ids


def inject_faults(
    run: Run, receiver: Receiver, ids: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    """Kill pool processes at random moments, the whole service once, bring the receiver up."""
    rng = random.Random(args.seed)
    started = time.monotonic()
    next_kill = started + rng.uniform(3, 10)
    kills, service_killed_at, stalled, receiver_up_at = 0, None, False, None
    deadline = started + args.timeout_s
    progress = (0, time.monotonic())  # (final jobs, when that count last changed)
    first_final: float | None = None  # the outage lasts down_s from here
    while time.monotonic() < deadline:
        now = time.monotonic() - started
        outage_s = None if first_final is None else now - first_final
        if receiver.server is None and outage_s is not None and outage_s >= args.down_s:
            receiver.start()
            receiver_up_at = round(now, 1)
        if service_killed_at is None and outage_s is not None and outage_s >= args.down_s / 2:
            run.kill_everything_and_restart(args.stop_grace_s)
            service_killed_at = round(now, 1)
        elif (
            kills < args.kills
            and time.monotonic() >= next_kill
            and run.kill_pool_process(rng, args.kill_idle)
        ):
            kills += 1
            next_kill = time.monotonic() + rng.uniform(3, 10)
        jobs = run.jobs()
        final = sum(1 for i in ids if jobs.get(i, {}).get("status") in FINAL)
        if final and first_final is None:
            first_final = now
        if final == len(ids) and receiver.server is not None:
            break
        if final != progress[0]:
            progress = (final, time.monotonic())
        elif time.monotonic() - progress[1] > args.stall_s:
            stalled = True  # no job finished for stall_s: the worker hangs
            break
        time.sleep(0.5)
    if receiver.server is None:
        receiver.start()
    return {
        "pool_kills": kills, "service_killed_at_s": service_killed_at, "stalled": stalled,
        "first_job_final_at_s": None if first_final is None else round(first_final, 1),
        "receiver_up_at_s": receiver_up_at,
        "all_final_at_s": round(time.monotonic() - started, 1),
    }  # fmt: skip


def wait_for_callbacks(run: Run, receiver: Receiver, ids: list[str], timeout_s: float) -> float:
    """Until every job's event is settled (delivered or given up); the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        with receiver.lock:
            delivered = {job_id for _, job_id in receiver.deliveries}
        if delivered >= set(ids):
            break
        time.sleep(0.5)
    time.sleep(3)  # a few more sweeps: none may send anything again
    return round(time.monotonic() - started, 1)


def count_results(data_dir: Path, jobs: dict[str, dict[str, Any]]) -> tuple[int, int]:
    """(duplicated, missing): result objects beyond one per succeeded job, and succeeded
    jobs without theirs (local object store: ``objects/<bucket>/decoded/<job id>.json``)."""
    names = Counter(
        path.name for path in (data_dir / "objects").rglob("decoded/*.json")
        if not path.name.endswith(".transcript.json")
    )  # fmt: skip
    succeeded = {job_id for job_id, job in jobs.items() if job["status"] == "succeeded"}
    expected = {f"{job_id}.json" for job_id in succeeded}
    duplicated = sum(count - 1 for count in names.values()) + len(set(names) - expected)
    return duplicated, len(expected - set(names))


def slot_exits(folder: Path) -> dict[str, int]:
    """From the service's logs: job slots that died holding jobs, how many jobs they
    held, and how many of those deaths counted as crashes (towards the poison limit)."""
    found = [
        re.search(r" (crashed|stopped from outside) \(exit .*while running jobs (.*): queued", line)
        for log in folder.glob("*.log")
        for line in log.read_text(errors="replace").splitlines()
    ]
    deaths = [match for match in found if match is not None]
    stopping = [
        line
        for log in folder.glob("*.log")
        for line in log.read_text(errors="replace").splitlines()
        if "attempt not counted if the stop cuts them off" in line
    ]
    return {
        "slot_stops_holding_jobs": len(stopping),
        "slot_deaths_holding_jobs": len(deaths),
        "jobs_held_by_them": sum(len(match[2].split(", ")) for match in deaths),
        "slot_deaths_counted_as_crashes": sum(match[1] == "crashed" for match in deaths),
    }


def report(run: Run, receiver: Receiver, ids: list[str], data_dir: Path) -> dict[str, Any]:
    jobs = {job_id: run.job(job_id) for job_id in ids}
    statuses = Counter(job.get("status", "missing") for job in jobs.values())
    duplicated, missing = count_results(data_dir, jobs)
    per_event = Counter(webhook_id for webhook_id, _ in receiver.deliveries)
    ids_per_job: dict[str, set[str]] = {}
    for webhook_id, job_id in receiver.deliveries:
        ids_per_job.setdefault(job_id, set()).add(webhook_id)
    final = [job_id for job_id, job in jobs.items() if job.get("status") in ("succeeded", "failed")]
    attempts = [len(jobs[i]["callback"]["attempts"]) for i in final if jobs[i].get("callback")]
    return {
        "jobs": len(ids),
        "statuses": dict(statuses),
        "jobs_lost": len(ids) - statuses.get("succeeded", 0),
        "failures": [jobs[i].get("error") for i in ids if jobs[i].get("status") == "failed"],
        "results_duplicated": duplicated,
        "results_missing": missing,
        "callbacks_lost": sum(1 for job_id in final if job_id not in ids_per_job),
        "callbacks_duplicated": sum(count - 1 for count in per_event.values()),
        "events_with_several_ids": sum(1 for found in ids_per_job.values() if len(found) > 1),
        "deliveries": len(receiver.deliveries),
        "events_retried": sum(1 for count in attempts if count > 1),
        "attempts_per_event_max": max(attempts, default=0),
        "attempts_per_event_mean": round(sum(attempts) / len(attempts), 2) if attempts else 0,
    }


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--down-s", type=float, default=60.0)
    parser.add_argument("--kills", type=int, default=6)
    parser.add_argument("--model", default="whisper-tiny.en")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--lease-s", type=float, default=4.0)
    parser.add_argument("--retry-s", default=DEFAULT_RETRY_S)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--timeout-s", type=float, default=900.0)
    parser.add_argument("--stall-s", type=float, default=120.0, help="no job finished: stop")
    parser.add_argument(
        "--stop-grace-s", type=float, help="stop the service (SIGTERM, kill -9 after this)"
    )
    parser.add_argument("--kill-idle", action="store_true", help="kill idle pool processes too")
    parser.add_argument(
        "--distributed", action="store_true", help="PostgreSQL, Redis, api + 2 workers"
    )
    parser.add_argument("--quick", action="store_true", help="12 jobs, receiver down 40 s, 3 kills")
    args = parser.parse_args()
    if args.quick:
        args.jobs, args.down_s, args.kills = 12, 40.0, 3
    clips = make_clips(HERE / "out" / "fault_clips", args.jobs)
    receiver = Receiver()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        with contextlib.ExitStack() as stack:
            if args.distributed:
                env = stack.enter_context(distributed_env(data_dir))
            else:
                env = base_env(data_dir)
            env.update(
                DSAC_EGRESS_ALLOW="127.0.0.1", DSAC_JOB_LEASE_S=str(args.lease_s),
                DSAC_CALLBACK_RETRY_S=args.retry_s, DSAC_CALLBACK_TIMEOUT_S="5",
                DSAC_MAX_ACTIVE_JOBS_PER_TENANT=str(4 * args.jobs),
            )  # fmt: skip
            kind = DistributedRun if args.distributed else Run
            run = kind(env, Path(tmp), args.workers)
            try:
                ids = submit_all(run, clips, receiver, args.model)
                faults = inject_faults(run, receiver, ids, args)
                faults["callbacks_settled_in_s"] = wait_for_callbacks(run, receiver, ids, 300)
                figures = {**report(run, receiver, ids, data_dir), **faults}
            finally:
                receiver.close()
                run.stop()
            figures.update(slot_exits(Path(tmp)))
    figures.update(down_s=args.down_s, lease_s=args.lease_s, retry_s=args.retry_s,
                   stop_grace_s=args.stop_grace_s,
                   setup="distributed" if args.distributed else "embedded")  # fmt: skip
    print(json.dumps(figures, indent=2))
    for name in ("jobs_lost", "results_duplicated", "results_missing", "callbacks_lost",
                 "callbacks_duplicated", "events_with_several_ids"):  # fmt: skip
        print(f"{name}: {figures[name]}")


if __name__ == "__main__":
    main()
