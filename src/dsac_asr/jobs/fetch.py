"""Bringing a job's audio to a local file: from the object store or a URL.

URLs are fetched through the egress guard: only global addresses (unless the
operator allowed a private one), checked on the address connected to and on
every redirect, with a byte cap and time limits.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from dsac_asr.egress import EgressPolicy, Timeouts, download
from dsac_asr.jobs.model import Job, SourceKind
from dsac_asr.storage.base import ObjectStore

_SAFE_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,15}")


def _local_name(job: Job) -> str:
    """``input`` plus the source's extension when it is plain letters and digits (a
    client's file name never reaches the file system: NUL or ``/`` in it is dropped)."""
    name = job.source.filename or PurePosixPath(job.source.key or "audio").name
    suffix = PurePosixPath(name.replace("\x00", "")).suffix
    return f"input{suffix}" if _SAFE_SUFFIX.fullmatch(suffix) else "input"


def fetch_input(
    job: Job,
    objects: ObjectStore,
    folder: Path,
    max_bytes: int,
    *,
    policy: EgressPolicy,
    timeouts: Timeouts,
) -> Path:
    """Download the job's audio into ``folder`` and return the file's path."""
    target = folder / _local_name(job)
    if job.source.kind is SourceKind.URL:
        download(job.source.url or "", target, policy, max_bytes=max_bytes, timeouts=timeouts)
    else:
        objects.download(job.source.bucket, job.source.key or "", target)
    return target
