"""The object store: audio and results by (bucket, key), in a local folder or S3.

Importing this package does not import boto3; an ``S3ObjectStore`` imports it
when it is made.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from dsac_asr.errors import InvalidOptionError
from dsac_asr.storage.base import ObjectStore
from dsac_asr.storage.keys import check_bucket, check_key
from dsac_asr.storage.local import LocalObjectStore
from dsac_asr.storage.s3 import S3ObjectStore

__all__ = [
    "LocalObjectStore",
    "ObjectStore",
    "S3ObjectStore",
    "check_bucket",
    "check_key",
    "open_object_store",
]


def open_object_store(
    url: str | None,
    *,
    local_root: Path,
    endpoint_url: str | None = None,
    region: str | None = None,
) -> ObjectStore:
    """The object store that ``url`` names.

    ``None`` or ``file://``: a folder store in ``local_root``;
    ``file:///some/folder``: a folder store there; ``s3://``: S3 (or the
    S3-compatible server at ``endpoint_url``), with credentials from boto3's
    usual chain. Buckets come from each request, so an ``s3://`` URL names no
    bucket.
    """
    if url is None:
        return LocalObjectStore(local_root)
    parts = urlsplit(url)
    if parts.scheme == "file":
        return LocalObjectStore(_file_url_folder(url, local_root))
    if parts.scheme == "s3":
        _check_bare_s3_url(url)
        return S3ObjectStore(
            endpoint_url=endpoint_url, region=region, access_key_id=None, secret_access_key=None
        )
    raise InvalidOptionError(
        f"unsupported object store URL {url!r}: use file:///folder, file:// or s3://"
    )


def _file_url_folder(url: str, local_root: Path) -> Path:
    """The folder a ``file://`` URL names (``local_root`` when it names none)."""
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
        raise InvalidOptionError(
            f"object store URL {url!r} must name a local folder, like file:///srv/objects"
        )
    return Path(unquote(parts.path)) if parts.path else local_root


def _check_bare_s3_url(url: str) -> None:
    """Refuse an ``s3://`` URL with a bucket or path: buckets come from each request."""
    parts = urlsplit(url)
    if parts.netloc or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidOptionError(
            f"object store URL {url!r} must be just s3:// (each job names its bucket)"
        )
