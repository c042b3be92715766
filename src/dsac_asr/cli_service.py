"""``dsac-asr serve``, ``api`` and ``worker``: the job service's processes."""

from __future__ import annotations

import contextlib
import logging
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Annotated

import typer

from dsac_asr.config import Settings

log = logging.getLogger("dsac_asr.serve")
HostOption = Annotated[str, typer.Option(help="Address to listen on.")]
PortOption = Annotated[int, typer.Option(help="Port to listen on.")]


def _logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def worker(
    concurrency: Annotated[int, typer.Option(help="Jobs run at once in this worker.")] = 1,
) -> None:
    """Run a worker that takes jobs from the queue (Ctrl-C: finish the running job, then stop)."""
    from dsac_asr.jobs.queue import JobQueue
    from dsac_asr.jobs.services import open_store
    from dsac_asr.jobs.workspace import remove_stale_workspaces

    _logging()
    settings = Settings()
    open_store(settings).close()
    removed = remove_stale_workspaces(settings.temp_dir)
    if removed:
        log.info("removed %d temporary folders left by stopped workers", len(removed))
    JobQueue(settings).run_worker(concurrency)


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
    from dsac_asr.callbacks.sender import CallbackSettings, deliver_due
    from dsac_asr.jobs.sweeper import OrphanSweeper

    _logging()
    settings = Settings()
    services = services_from_settings(settings)
    worker_process = _start_worker(workers)
    callbacks = CallbackSettings.from_settings(settings)
    sweeper = OrphanSweeper(
        services.store,
        services.enqueue,
        interval_s=settings.job_lease_s / 4,
        deliver_callbacks=lambda: deliver_due(services.store, services.objects, callbacks),
    )
    sweeper.requeue(include_queued=True)
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


def _start_worker(concurrency: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "dsac_asr.cli", "worker", "--concurrency", str(concurrency)]
    return subprocess.Popen(command)


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
