"""S3, or any S3-compatible store (MinIO, Ceph, ...), through boto3 (the ``s3`` extra).

boto3 is imported when a store is made, never when this package is imported.
Credentials come from the arguments or, where they are None, from boto3's
usual chain (environment, profile, instance role). With a custom
``endpoint_url`` the client uses path-style addressing and computes checksums
only where S3 requires them, which S3-compatible servers understand.

Errors are translated at this boundary: a missing bucket or object is a
``NotFoundError``; access denied is an ``InvalidOptionError``; connection
failures, timeouts, throttling and 5xx answers are ``TransientError`` (after
boto3's own ``max_attempts``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from pathlib import Path
from typing import Any, BinaryIO

from dsac_asr.errors import (
    DsacError,
    InvalidOptionError,
    MediaTooLargeError,
    MissingExtraError,
    NotFoundError,
    TransientError,
)
from dsac_asr.storage.keys import check_bucket, check_key, check_max_bytes

PART_BYTES = 8 * 1024 * 1024
"""Multipart threshold and part size for streamed uploads."""

CHUNK_BYTES = 1024 * 1024
"""How much of a download is written at a time."""

_MISSING_CODES = frozenset({"NoSuchKey", "NotFound", "404"})
_DENIED_CODES = frozenset(
    {"AccessDenied", "Forbidden", "403", "AllAccessDisabled", "InvalidAccessKeyId"}
    | {"SignatureDoesNotMatch", "AccountProblem"}
)
_TRANSIENT_CODES = frozenset(
    {"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests"}
    | {"RequestTimeout", "InternalError", "ServiceUnavailable", "OperationAborted"}
)


class S3ObjectStore:
    """An ``ObjectStore`` on S3 or an S3-compatible server."""

    def __init__(
        self,
        *,
        endpoint_url: str | None,
        region: str | None,
        access_key_id: str | None,
        secret_access_key: str | None,
        connect_timeout_s: float = 5,
        read_timeout_s: float = 60,
        max_attempts: int = 3,
    ) -> None:
        boto3 = _import_boto3()
        session = boto3.session.Session(
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            region_name=region,
        )
        config = _client_config(endpoint_url, connect_timeout_s, read_timeout_s, max_attempts)
        self.endpoint_url = endpoint_url
        self._client: Any = session.client("s3", endpoint_url=endpoint_url, config=config)
        self._transfer_config = _transfer_config()

    def put_stream(
        self, bucket: str, key: str, stream: BinaryIO, *, max_bytes: int | None = None
    ) -> int:
        """Upload ``stream`` (multipart above 8 MiB) and return its size.

        Over ``max_bytes``: reading stops, the multipart upload is aborted and
        ``MediaTooLargeError`` is raised; an earlier object under the key is kept.
        """
        bucket, key = check_bucket(bucket), check_key(key)
        reader = LimitedReader(stream, check_max_bytes(max_bytes))
        with self._errors(bucket, key):
            try:
                self._client.upload_fileobj(reader, bucket, key, Config=self._transfer_config)
            except Exception as exc:
                if reader.over_limit and not isinstance(exc, MediaTooLargeError):
                    raise reader.too_large() from exc
                raise
        return reader.size

    def put_bytes(self, bucket: str, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` with its ``Content-Type``."""
        bucket, key = check_bucket(bucket), check_key(key)
        with self._errors(bucket, key):
            self._client.put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type)

    def get_bytes(self, bucket: str, key: str) -> bytes:
        """The object's content."""
        body = self._get_body(bucket, key)
        with self._errors(bucket, key), closing(body):
            data: bytes = body.read()
            return data

    def size(self, bucket: str, key: str) -> int:
        """The object's size in bytes (``HeadObject``)."""
        bucket, key = check_bucket(bucket), check_key(key)
        with self._errors(bucket, key):
            return int(self._client.head_object(Bucket=bucket, Key=key)["ContentLength"])

    def read_range(self, bucket: str, key: str, start: int, length: int) -> bytes:
        """Up to ``length`` bytes from byte ``start`` (a ranged ``GetObject``)."""
        bucket, key = check_bucket(bucket), check_key(key)
        if length <= 0:
            return b""
        byte_range = f"bytes={start}-{start + length - 1}"
        with self._errors(bucket, key):
            body = self._client.get_object(Bucket=bucket, Key=key, Range=byte_range)["Body"]
            with closing(body):
                data: bytes = body.read()
                return data

    def download(self, bucket: str, key: str, target: Path) -> int:
        """Stream the object into ``target``; return its size (a partial file is removed)."""
        body = self._get_body(bucket, key)
        target = Path(target)
        with closing(body), target.open("wb") as out:
            try:
                with self._errors(bucket, key):
                    for chunk in body.iter_chunks(CHUNK_BYTES):
                        out.write(chunk)
            except BaseException:
                target.unlink(missing_ok=True)
                raise
            return out.tell()

    def delete(self, bucket: str, key: str) -> None:
        """Remove the object (no error if it is gone; ``NotFoundError`` if the bucket is)."""
        bucket, key = check_bucket(bucket), check_key(key)
        with self._errors(bucket, key):
            self._client.delete_object(Bucket=bucket, Key=key)

    def exists(self, bucket: str, key: str) -> bool:
        """Whether the object exists (False too when the bucket does not)."""
        bucket, key = check_bucket(bucket), check_key(key)
        try:
            with self._errors(bucket, key):
                self._client.head_object(Bucket=bucket, Key=key)
        except NotFoundError:
            return False
        return True

    def ping(self) -> None:
        """Raise ``TransientError`` unless the server answers.

        Sends ``ListBuckets`` (at most one bucket). Any answer from the server,
        AccessDenied included, proves it is reachable, so this needs no
        permission at all; it does not prove that the credentials work.
        """
        with self._errors("", ""):
            try:
                self._client.list_buckets(MaxBuckets=1)
            except self._client.exceptions.ClientError as exc:
                if isinstance(_translate(exc, "", "", self.endpoint_url), TransientError):
                    raise

    def ensure_bucket(self, bucket: str) -> None:
        """Create the bucket unless it exists (for tests and embedded or dev setups)."""
        bucket = check_bucket(bucket)
        try:
            with self._errors(bucket, ""):
                self._client.head_bucket(Bucket=bucket)
        except NotFoundError:
            self._create_bucket(bucket)

    def _create_bucket(self, bucket: str) -> None:
        """Create ``bucket`` in the client's region (a concurrent creation is fine)."""
        region = self._client.meta.region_name
        location = {} if region in (None, "us-east-1") else {"LocationConstraint": region}
        extra = {"CreateBucketConfiguration": location} if location else {}
        owned = self._client.exceptions.BucketAlreadyOwnedByYou
        with self._errors(bucket, ""), suppress(owned):
            self._client.create_bucket(Bucket=bucket, **extra)

    def _get_body(self, bucket: str, key: str) -> Any:
        """The streaming body of ``GetObject``."""
        bucket, key = check_bucket(bucket), check_key(key)
        with self._errors(bucket, key):
            return self._client.get_object(Bucket=bucket, Key=key)["Body"]

    @contextmanager
    def _errors(self, bucket: str, key: str) -> Iterator[None]:
        """Translate boto3 errors into the dsac-asr exception tree."""
        try:
            yield
        except DsacError:
            raise
        except Exception as exc:
            translated = _translate(exc, bucket, key, self.endpoint_url)
            if translated is None:
                raise
            raise translated from exc


class LimitedReader:
    """A non-seekable view of a stream that counts what is read and raises
    ``MediaTooLargeError`` once more than ``max_bytes`` have come through.

    ``read(n)`` returns exactly ``n`` bytes unless the stream ends (s3transfer
    takes a short read for the end), and never asks the stream for more than
    one byte past the limit.
    """

    def __init__(self, stream: BinaryIO, max_bytes: int | None) -> None:
        self._stream = stream
        self.max_bytes = max_bytes
        self.size = 0
        self.over_limit = False

    def readable(self) -> bool:
        """Always readable."""
        return True

    def seekable(self) -> bool:
        """Never seekable: the upload must not rewind the source."""
        return False

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes (all that is left when ``size`` is None or negative)."""
        want = self._allowance(size)
        parts: list[bytes] = []
        got = 0
        while want is None or got < want:
            chunk = self._stream.read(CHUNK_BYTES if want is None else want - got)
            if not chunk:
                break
            parts.append(chunk)
            got += len(chunk)
        self._count(got)
        return b"".join(parts)

    def too_large(self) -> MediaTooLargeError:
        """The error for a stream over the limit."""
        return MediaTooLargeError(f"the upload is larger than the limit of {self.max_bytes} bytes")

    def _allowance(self, size: int | None) -> int | None:
        """How much to read for a request of ``size``: never past limit + 1."""
        wanted = None if size is None or size < 0 else size
        if self.max_bytes is None:
            return wanted
        room = self.max_bytes - self.size + 1
        return room if wanted is None else min(wanted, room)

    def _count(self, got: int) -> None:
        """Add ``got`` bytes to the total; raise once it is over the limit."""
        self.size += got
        if self.max_bytes is not None and self.size > self.max_bytes:
            self.over_limit = True
            raise self.too_large()


def _import_boto3() -> Any:
    """Import boto3, or say which extra provides it."""
    try:
        import boto3
    except ImportError as exc:
        raise MissingExtraError(
            "the S3 object store needs boto3: pip install 'dsac-asr[s3]'"
        ) from exc
    return boto3


def _client_config(
    endpoint_url: str | None, connect_timeout_s: float, read_timeout_s: float, max_attempts: int
) -> Any:
    """The botocore client configuration: timeouts, retries and, for S3-compatible
    servers, path-style URLs and checksums only where S3 requires them."""
    from botocore.config import Config

    compatible = {
        "s3": {"addressing_style": "path"},
        "request_checksum_calculation": "when_required",
        "response_checksum_validation": "when_required",
    }
    return Config(
        connect_timeout=connect_timeout_s,
        read_timeout=read_timeout_s,
        retries={"total_max_attempts": max_attempts, "mode": "standard"},
        **({} if endpoint_url is None else compatible),
    )


def _transfer_config() -> Any:
    """Multipart settings for streamed uploads (bounded memory: 4 parts in flight)."""
    from boto3.s3.transfer import TransferConfig

    config = TransferConfig(
        multipart_threshold=PART_BYTES, multipart_chunksize=PART_BYTES, max_concurrency=4
    )
    config.max_in_memory_upload_chunks = 4  # s3transfer's setting; boto3 does not take it
    return config


def _translate(exc: Exception, bucket: str, key: str, endpoint: str | None) -> DsacError | None:
    """The dsac-asr error for a boto3 error, or None for an error boto3 did not make."""
    from botocore import exceptions as bx

    store = f"S3 store {endpoint or '(AWS)'}"
    if isinstance(exc, bx.ClientError):
        return _translate_client_error(exc, bucket, key, store)
    if isinstance(exc, bx.ConnectionError | bx.HTTPClientError | bx.IncompleteReadError):
        return TransientError(f"{store} is unreachable or timed out: {exc}")
    if isinstance(exc, bx.CredentialRetrievalError):
        return TransientError(f"{store}: credentials could not be fetched: {exc}")
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return InvalidOptionError(f"{store}: no usable credentials: {exc}")
    if isinstance(exc, bx.BotoCoreError):
        return InvalidOptionError(f"{store} refused the request: {exc}")
    return None


def _translate_client_error(exc: Any, bucket: str, key: str, store: str) -> DsacError:
    """The dsac-asr error for an error answer from the server."""
    code = str(exc.response.get("Error", {}).get("Code", ""))
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    where = f"bucket {bucket!r}" if bucket else "the bucket list"
    where = f"object {key!r} in {where}" if key else where
    if code == "NoSuchBucket":
        return NotFoundError(f"bucket {bucket!r} does not exist in {store}")
    if code in _MISSING_CODES or status == 404:
        return NotFoundError(f"{where} not found in {store}")
    if code in _DENIED_CODES or status == 403:
        return InvalidOptionError(f"access denied to bucket {bucket!r} in {store} ({code})")
    if code in _TRANSIENT_CODES or status >= 500 or status == 429:
        return TransientError(f"{store} failed on {where}, try again later: {code} {status}")
    return InvalidOptionError(f"{store} refused the request on {where}: {code} {status}")
