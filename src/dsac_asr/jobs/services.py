"""Opening the job service's parts (store, object store, worker context) from settings."""

from __future__ import annotations

from dsac_asr.config import Settings
from dsac_asr.jobs.migrations import migrate
from dsac_asr.jobs.runner import JobBatching, WorkerContext
from dsac_asr.jobs.store import JobStore
from dsac_asr.pipeline import Pipeline
from dsac_asr.storage import ObjectStore, open_object_store


def open_store(settings: Settings, *, upgrade: bool = True) -> JobStore:
    """The job store at the configured database, migrated to the latest schema."""
    url = settings.resolved_database_url
    if url.startswith("sqlite:"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    if upgrade:
        migrate(url)
    return JobStore.open(url)


def open_objects(settings: Settings) -> ObjectStore:
    """The configured object store (a local folder unless ``DSAC_STORAGE_URL=s3://``)."""
    return open_object_store(
        settings.storage_url,
        local_root=settings.resolved_storage_root,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
    )


def worker_context(settings: Settings) -> WorkerContext:
    """Everything a worker process needs, opened from ``settings`` (the internal bucket,
    where transcripts go, is made if missing)."""
    objects = open_objects(settings)
    objects.ensure_bucket(settings.internal_bucket)
    return WorkerContext(
        store=open_store(settings, upgrade=False),
        objects=objects,
        pipeline=Pipeline.from_settings(settings),
        temp_root=settings.temp_dir,
        lease_s=settings.job_lease_s,
        max_input_bytes=settings.media_limits.max_size_bytes,
        max_attempts=settings.max_job_attempts,
        egress=settings.egress_policy,
        fetch_timeouts=settings.fetch_timeouts,
        internal_bucket=settings.internal_bucket,
        batching=JobBatching(
            size=settings.job_batch_size,
            wait_s=settings.job_batch_wait_ms / 1000,
            share_windows=settings.job_batch_share_windows,
        ),
    )
