"""The job queue on Celery: messages carry only the job id.

Long-task settings: late acknowledgement, requeue when a worker process is
lost, prefetch 1; each worker process runs one job at a time (solo pool).
The embedded default uses kombu's filesystem transport under the data dir
(no server); ``DSAC_BROKER_URL`` selects Redis or SQS.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery

from dsac_asr.config import Settings
from dsac_asr.errors import DsacError, NotFoundError, TransientError
from dsac_asr.jobs.batching import run_batch, run_queued_like
from dsac_asr.jobs.callback_messages import NOTIFIED
from dsac_asr.jobs.callback_outbox import event_id
from dsac_asr.jobs.callback_sender import CallbackSettings, deliver_event
from dsac_asr.jobs.model import Job, JobStatus
from dsac_asr.jobs.results import delete_private_audio
from dsac_asr.jobs.runner import WorkerContext
from dsac_asr.jobs.services import worker_context

TASK_NAME = "dsac_asr.transcribe"
CALLBACK_TASK_NAME = "dsac_asr.callback"
QUEUE_NAME = "dsac-jobs"
CALLBACK_QUEUE_NAME = "dsac-callbacks"
PROMPT_RETRY_S = 60.0
"""A callback retry due sooner than this is queued at once; later ones wait for the sweeper."""
log = logging.getLogger(__name__)


def _transport_options(settings: Settings) -> dict[str, Any]:
    url = settings.resolved_broker_url
    if url.startswith("filesystem:"):
        folder = settings.queue_dir
        folder.mkdir(parents=True, exist_ok=True)
        return {
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "control_folder": str(folder / "control"),
            "polling_interval": 0.1,
        }
    # Redis/SQS redeliver an unacknowledged message after this long: longer than any job
    # (capped at SQS's maximum of 12 hours).
    return {"visibility_timeout": min(43200, int(settings.max_duration_s * 3 + 3600))}


class JobQueue:
    """The Celery app for one configuration, with the transcription task registered."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._context: WorkerContext | None = None
        self.celery = Celery("dsac_asr", broker=settings.resolved_broker_url, set_as_current=False)
        self.celery.conf.update(
            task_acks_late=True,
            task_reject_on_worker_lost=True,
            worker_prefetch_multiplier=1,
            task_ignore_result=True,
            task_default_queue=QUEUE_NAME,
            task_serializer="json",
            accept_content=["json"],
            broker_transport_options=_transport_options(settings),
            broker_connection_retry_on_startup=True,
            worker_hijack_root_logger=False,
        )

        def transcribe(task: Any, job_id: str) -> None:
            self._execute(task, job_id)

        def callback(job_id: str, attempt: int = 1) -> None:
            self._deliver(job_id)

        self.task = self.celery.task(
            name=TASK_NAME, bind=True, max_retries=settings.max_transient_retries
        )(transcribe)
        self.callback_task = self.celery.task(
            name=CALLBACK_TASK_NAME, queue=CALLBACK_QUEUE_NAME, ignore_result=True
        )(callback)
        self._callback_settings: CallbackSettings | None = None

    def enqueue(self, job_id: str) -> None:
        """Queue the job for a worker."""
        try:
            self.task.apply_async(args=[job_id], retry=True, retry_policy={"max_retries": 3})
        except Exception as exc:  # kombu raises many kinds when the broker is down
            raise TransientError(f"the job queue is unreachable: {exc}") from exc

    def context(self) -> WorkerContext:
        """This process's worker context, opened on first use (after the pool forks)."""
        if self._context is None:
            self._context = worker_context(self.settings)
        return self._context

    def _execute(self, task: Any, job_id: str) -> None:
        ctx = self.context()
        try:
            status = run_batch(job_id, ctx, self._mate_done)
        except TransientError as exc:
            if task.request.retries < task.max_retries:
                log.warning("job %s: transient error, retrying: %s", job_id, exc.message)
                raise task.retry(exc=exc, countdown=min(60, 2**task.request.retries)) from exc
            message = f"gave up after retries: {exc.message}"
            failed = ctx.store.finish_failure(job_id, exc.code, message, lease_id=None)
            if failed is not None:
                _delete_private_audio(failed, ctx)
            status = JobStatus.FAILED if failed else None
        if status is None:  # not claimable: final, or running under another claim
            return  # (if that claim's worker dies, the sweeper queues the job again)
        if status in NOTIFIED:
            self.notify(job_id)
        self._run_queued_like(job_id)

    def _run_queued_like(self, job_id: str) -> None:
        """More batches of the queued jobs routed like this one, without a queue round trip."""
        try:
            run_queued_like(job_id, self.context(), self._mate_done)
        except TransientError as exc:  # what it claimed is handed back or leased: not lost
            log.warning("after job %s: cannot take more queued jobs: %s", job_id, exc.message)

    def _mate_done(self, job_id: str, status: JobStatus | None) -> None:
        """A job run in another job's batch ended: tell its client, or queue it again."""
        if status is None:
            try:
                self.enqueue(job_id)
            except TransientError as exc:  # the sweeper re-enqueues it at the next start
                log.warning("job %s: cannot queue it again: %s", job_id, exc.message)
        elif status in NOTIFIED:
            self.notify(job_id)

    def notify(self, job_id: str, delay_s: float = 0.0) -> None:
        """Try the finished job's callback now (or after ``delay_s``) for latency; its
        outbox event was written with the job's final state, so if this message is
        lost the sweeper delivers it when due."""
        try:
            self.callback_task.apply_async(args=[job_id], countdown=delay_s)
        except Exception as exc:  # the broker is down: the sweeper delivers it
            log.warning("job %s: cannot queue its callback now: %s", job_id, exc)

    @property
    def callback_settings(self) -> CallbackSettings:
        """How this process delivers callbacks (made on first use)."""
        if self._callback_settings is None:
            self._callback_settings = CallbackSettings.from_settings(self.settings)
        return self._callback_settings

    def _deliver(self, job_id: str) -> None:
        """The due attempt of the job's callback event; a retry due within a minute
        is queued again here, later ones are left to the sweeper."""
        ctx = self.context()
        try:
            job = ctx.store.get_job(job_id, None)
            if job.status not in NOTIFIED:
                return
            sent = deliver_event(
                event_id(job.id, job.status.value), ctx.store, ctx.objects, self.callback_settings
            )
        except NotFoundError:
            return  # the job was deleted: nobody to tell
        except TransientError as exc:
            log.warning("callback for job %s: %s; the sweeper retries it", job_id, exc.message)
            return
        if sent is not None and sent.next_at is not None:
            delay_s = (sent.next_at - ctx.store.clock()).total_seconds()
            if delay_s <= PROMPT_RETRY_S:
                self.notify(job_id, max(delay_s, 0.0) + 0.05)

    def ping(self) -> None:
        """Raise ``TransientError`` unless the broker answers."""
        try:
            with self.celery.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=2)
        except Exception as exc:
            raise TransientError(f"the job queue is unreachable: {exc}") from exc

    def run_worker(self, name: str, loglevel: str = "INFO") -> None:
        """Run a single-process Celery worker (one job at a time) in this process
        until it is told to stop. ``dsac-asr worker`` runs one per slot and starts a
        new one when one dies: a prefork pool process killed while idle leaves the
        pool unable to take work (Celery issue #2011)."""
        self.celery.worker_main(
            [
                "worker",
                "--pool=solo",
                f"--hostname={name}@%h",
                f"--loglevel={loglevel}",
                f"--queues={QUEUE_NAME},{CALLBACK_QUEUE_NAME}",
                "--without-gossip",
                "--without-mingle",
            ]
        )


def _delete_private_audio(job: Job, ctx: WorkerContext) -> None:
    """A private job given up after its retries loses its audio as any failed one does
    (best effort: the store that failed it may still be down)."""
    try:
        delete_private_audio(ctx.store, ctx.objects, job)
    except DsacError as exc:
        log.warning("job %s: cannot delete its private audio: %s", job.id, exc.message)
