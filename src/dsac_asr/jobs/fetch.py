"""Bringing a job's audio to a local file: from the object store or a URL."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import httpx

from dsac_asr.errors import InputError, MediaTooLargeError, TransientError
from dsac_asr.jobs.model import Job, SourceKind
from dsac_asr.storage.base import ObjectStore

_CHUNK_BYTES = 1 << 16


class SourceUnreachableError(InputError):
    """The source URL could not be fetched (refused, not found, bad answer)."""

    code = "source_unreachable"


def _local_name(job: Job) -> str:
    name = job.source.filename or PurePosixPath(job.source.key or "audio").name
    suffix = PurePosixPath(name).suffix[:16]
    return f"input{suffix}"


def fetch_input(job: Job, objects: ObjectStore, folder: Path, max_bytes: int) -> Path:
    """Download the job's audio into ``folder`` and return the file's path."""
    target = folder / _local_name(job)
    if job.source.kind is SourceKind.URL:
        _fetch_url(job.source.url or "", target, max_bytes)
    else:
        objects.download(job.source.bucket, job.source.key or "", target)
    return target


def _fetch_url(url: str, target: Path, max_bytes: int) -> None:
    if urlsplit(url).scheme not in ("http", "https"):
        raise InputError(f"only http and https URLs are fetched, not {url!r}")
    try:
        with httpx.stream("GET", url, timeout=httpx.Timeout(30.0, connect=10.0)) as response:
            if response.status_code != 200:
                raise SourceUnreachableError(f"fetching {url} answered {response.status_code}")
            _save(response, target, max_bytes)
    except httpx.TimeoutException as exc:
        raise TransientError(f"fetching {url} timed out") from exc
    except httpx.HTTPError as exc:
        raise SourceUnreachableError(f"cannot fetch {url}: {exc}") from exc


def _save(response: httpx.Response, target: Path, max_bytes: int) -> None:
    size = 0
    with target.open("wb") as out:
        for chunk in response.iter_raw(_CHUNK_BYTES):
            size += len(chunk)
            if size > max_bytes:
                raise MediaTooLargeError(f"the source is larger than {max_bytes} bytes")
            out.write(chunk)
