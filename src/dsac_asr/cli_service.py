"""``dsac-asr serve``, ``api``, ``worker`` and ``sweeper``: the job service's processes."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

import typer

from dsac_asr.config import Settings

if TYPE_CHECKING:
    from dsac_asr.jobs.slot_exits import SlotExits
    from dsac_asr.jobs.sweeper import Sweeper

log = logging.getLogger("dsac_asr.serve")
HostOption = Annotated[str, typer.Option(help="Address to listen on.")]
PortOption = Annotated[int, typer.Option(help="Port to listen on.")]


def _logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def worker(
    concurrency: Annotated[int, typer.Option(help="Jobs run at once in this worker.")] = 1,
    sweep: Annotated[
        bool, typer.Option(help="Also run the sweeper (taking turns with other processes).")
    ] = True,
    slot: Annotated[int | None, typer.Option(hidden=True)] = None,
    parent: Annotated[int | None, typer.Option(hidden=True)] = None,
) -> None:
    """Run a worker that takes jobs from the queue (Ctrl-C: finish the running job, then stop)."""
    from dsac_asr.jobs.queue import JobQueue
    from dsac_asr.jobs.services import open_store
    from dsac_asr.jobs.slot_exits import SlotExits
    from dsac_asr.jobs.workspace import remove_stale_workspaces

    _logging()
    settings = Settings()
    if slot is not None:  # one job at a time, in a process the worker started
        if parent is not None:  # stop with the worker, even after kill -9
            threading.Thread(target=_terminate_when_orphaned, args=(parent,), daemon=True).start()
        JobQueue(settings).run_worker(f"dsac{slot}-{os.getpid()}")
        return
    store = open_store(settings)
    removed = remove_stale_workspaces(settings.temp_dir)
    if removed:
        log.info("removed %d temporary folders left by stopped workers", len(removed))
    me = str(os.getpid())
    here = [sys.executable, "-m", "dsac_asr.cli"]
    commands = {
        f"slot {n}": [*here, "worker", "--slot", str(n), "--parent", me]
        for n in range(max(1, concurrency))
    }
    if sweep:
        commands["sweeper"] = [*here, "sweeper", "--parent", me]
    try:
        Supervisor(commands, exits=SlotExits(store)).run()
    finally:
        store.close()


class Supervisor:
    """Runs each command as a child process and starts it again when it exits, until
    SIGTERM or Ctrl-C; then asks each to stop (SIGTERM: finish the running job) and
    waits. One process per job slot, so a slot killed -9 (even while idle) costs
    only its running job, which ``exits`` (``jobs.slot_exits``) hands to the
    sweeper at once, its attempt counted only if the slot crashed. Before the
    slots are asked to stop, ``exits`` takes back their jobs' attempts, so a job
    cut off by the stop is not counted either."""

    def __init__(
        self,
        commands: dict[str, list[str]],
        restart_s: float = 1.0,
        exits: SlotExits | None = None,
    ) -> None:
        self.commands, self.restart_s, self.exits = commands, restart_s, exits
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.stopping = threading.Event()

    def run(self) -> None:
        """Supervise until told to stop, then stop the children."""
        signal.signal(signal.SIGTERM, lambda _signum, _frame: self.stopping.set())
        try:
            while not self.stopping.is_set():
                self._start_missing()
                self.stopping.wait(self.restart_s)
        except KeyboardInterrupt:
            pass
        for name, child in self.children.items():
            if child.poll() is None:
                self._tell_stopping(name, child)
                child.terminate()
        try:
            for child in self.children.values():
                child.wait()
        except KeyboardInterrupt:  # again: abandon the running jobs
            for child in self.children.values():
                child.kill()

    def _start_missing(self) -> None:
        for name, command in self.commands.items():
            child = self.children.get(name)
            if child is not None and child.poll() is None:
                continue
            if child is not None:
                log.warning("%s exited with %s; starting it again", name, child.returncode)
                self._tell_exit(name, child)
            self.children[name] = subprocess.Popen(command)
        if self.exits is not None:
            self.exits.looked()

    def _tell_stopping(self, name: str, child: subprocess.Popen[bytes]) -> None:
        if self.exits is None:
            return
        try:
            self.exits.stopping(name, child)
        except Exception:  # stopping goes on: a job cut off then counts
            log.exception("could not take back the attempts of %s's jobs", name)

    def _tell_exit(self, name: str, child: subprocess.Popen[bytes]) -> None:
        if self.exits is None:
            return
        try:
            self.exits.exited(name, child)
        except Exception:  # supervising goes on: the jobs' leases run out instead
            log.exception("could not hand back the jobs of %s", name)


def _terminate_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os.kill(os.getpid(), signal.SIGTERM)


def sweeper(
    once: Annotated[bool, typer.Option(help="Sweep once now, print what was done, exit.")] = False,
    parent: Annotated[int | None, typer.Option(hidden=True)] = None,
) -> None:
    """Run the sweeper on its own: queue again jobs whose worker died (lease expired),
    deliver the callbacks that are due.

    Every `worker` and `serve` already sweeps (taking turns through the database);
    run this where no worker may be running, e.g. beside workers that scale to zero.
    """
    import json

    from dsac_asr.jobs.callback_sender import CallbackSettings
    from dsac_asr.jobs.queue import JobQueue
    from dsac_asr.jobs.services import open_objects, open_store
    from dsac_asr.jobs.sweeper import Sweeper, sweep_steps

    _logging()
    settings = Settings()
    store = open_store(settings)
    callbacks = CallbackSettings.from_settings(settings)
    enqueue = JobQueue(settings).enqueue
    steps = sweep_steps(store, enqueue, open_objects(settings), callbacks)
    sweeper = Sweeper(store, steps, settings.resolved_sweep_interval_s)
    if once:
        typer.echo(json.dumps(sweeper.sweep()))
        return
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sweeper.stop())
    if parent is not None:  # started by a worker: stop with it, even after kill -9
        threading.Thread(target=_stop_when_orphaned, args=(parent, sweeper), daemon=True).start()
    log.info("sweeping every %.1f s", sweeper.interval_s)
    try:
        sweeper.run()
    except KeyboardInterrupt:
        sweeper.stop()


def _stop_when_orphaned(parent: int, sweeper: Sweeper) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    sweeper.stop()


def api(host: HostOption = "127.0.0.1", port: PortOption = 8000) -> None:
    """Run the HTTP API only (workers run elsewhere: `dsac-asr worker`)."""
    import uvicorn

    from dsac_asr.api.app import app_from_environment

    _logging()
    uvicorn.run(app_from_environment(), host=host, port=port, log_level="info")


def serve(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    workers: Annotated[int, typer.Option(help="Jobs run at once (worker processes).")] = 1,
) -> None:
    """Run the whole service on this machine: the API plus workers, nothing else needed."""
    import uvicorn

    from dsac_asr.api.app import create_app, services_from_settings
    from dsac_asr.jobs.callback_sender import CallbackSettings
    from dsac_asr.jobs.sweeper import Sweeper, requeue_orphans, requeue_queued, sweep_steps

    _logging()
    settings = Settings()
    services = services_from_settings(settings)
    worker_process = _start_worker(workers)
    callbacks = CallbackSettings.from_settings(settings)
    steps = sweep_steps(services.store, services.enqueue, services.objects, callbacks)
    sweeper = Sweeper(services.store, steps, settings.resolved_sweep_interval_s)
    requeue_queued(services.store, services.enqueue)  # the embedded queue may have lost some
    requeue_orphans(services.store, services.enqueue)
    sweeper.start()
    config = uvicorn.Config(create_app(services), host=host, port=port, log_level="info")
    try:
        _server_class()(config).run()
    finally:
        sweeper.stop()
        _stop_worker(worker_process)


def _server_class() -> type:
    import uvicorn

    class ServerThatReturns(uvicorn.Server):
        """uvicorn re-raises SIGINT/SIGTERM after shutting down, which would kill
        this process before it stops its workers; here the caller returns normally."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            with super().capture_signals():
                yield
                self._captured_signals.clear()

    return ServerThatReturns


def worker_command(concurrency: int) -> list[str]:
    """The command ``serve`` starts its workers with: ``serve`` sweeps in its own
    process, so the workers do not start a sweeper of their own as well."""
    concurrency_arg = ["--concurrency", str(concurrency)]
    return [sys.executable, "-m", "dsac_asr.cli", "worker", *concurrency_arg, "--no-sweep"]


def _start_worker(concurrency: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(worker_command(concurrency))


def _stop_worker(process: subprocess.Popen[bytes]) -> None:
    """Ask the worker to finish its running job and stop; wait for it."""
    if process.poll() is None:
        log.info("stopping workers: the running job finishes first (Ctrl-C again to abandon it)")
        process.send_signal(signal.SIGTERM)
    try:
        process.wait()
    except KeyboardInterrupt:
        process.kill()
        process.wait()
