"""The S3 object store against a real S3-protocol server (moto) on loopback."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from s3_server import (
    ACCESS_KEY_ID,
    REGION,
    SECRET_ACCESS_KEY,
    running_s3_server,
    s3_client,
    unique_bucket,
    unused_loopback_url,
)

from dsac_asr.errors import (
    InvalidOptionError,
    MediaTooLargeError,
    NotFoundError,
    TransientError,
)
from dsac_asr.storage import S3ObjectStore
from dsac_asr.storage.s3 import PART_BYTES, LimitedReader, _translate

pytestmark = pytest.mark.integration


def make_store(endpoint_url: str, **options: Any) -> S3ObjectStore:
    return S3ObjectStore(
        endpoint_url=endpoint_url,
        region=REGION,
        access_key_id=ACCESS_KEY_ID,
        secret_access_key=SECRET_ACCESS_KEY,
        **options,
    )


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with running_s3_server() as url:
        yield url


@pytest.fixture(scope="module")
def store(endpoint: str) -> S3ObjectStore:
    return make_store(endpoint)


@pytest.fixture
def bucket(store: S3ObjectStore) -> str:
    name = unique_bucket()
    store.ensure_bucket(name)
    return name


class CountingStream(io.RawIOBase):
    """``size_bytes`` of pseudo-random data, counting what was read."""

    def __init__(self, size_bytes: int) -> None:
        self.data = io.BytesIO(os.urandom(size_bytes))
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        count = self.data.readinto(buffer)
        self.bytes_read += count
        return count


def test_put_get_exists_delete(store: S3ObjectStore, bucket: str) -> None:
    store.put_bytes(bucket, "decoded/TAG.json", b'{"results": []}', "application/json")
    assert store.exists(bucket, "decoded/TAG.json")
    assert store.get_bytes(bucket, "decoded/TAG.json") == b'{"results": []}'
    store.delete(bucket, "decoded/TAG.json")
    assert not store.exists(bucket, "decoded/TAG.json")
    store.delete(bucket, "decoded/TAG.json")


def test_put_bytes_sets_the_content_type(store: S3ObjectStore, endpoint: str, bucket: str) -> None:
    store.put_bytes(bucket, "r.json", b"{}", "application/json")
    head = s3_client(endpoint).head_object(Bucket=bucket, Key="r.json")
    assert head["ContentType"] == "application/json"


def test_download_writes_the_object(store: S3ObjectStore, bucket: str, tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 11)
    store.put_bytes(bucket, "audio/call.wav", data, "audio/wav")
    target = tmp_path / "call.wav"
    assert store.download(bucket, "audio/call.wav", target) == len(data)
    assert target.read_bytes() == data


def test_put_stream_small(store: S3ObjectStore, bucket: str) -> None:
    assert store.put_stream(bucket, "s", io.BytesIO(b"hello"), max_bytes=5) == 5
    assert store.get_bytes(bucket, "s") == b"hello"


def test_put_stream_of_12_mb_uses_multipart(
    store: S3ObjectStore, endpoint: str, bucket: str
) -> None:
    stream = CountingStream(12 * 1024 * 1024)
    size = store.put_stream(bucket, "big.wav", stream, max_bytes=20 * 1024 * 1024)  # type: ignore[arg-type]
    assert size == 12 * 1024 * 1024
    assert store.get_bytes(bucket, "big.wav") == stream.data.getvalue()
    etag = s3_client(endpoint).head_object(Bucket=bucket, Key="big.wav")["ETag"]
    assert etag.strip('"').endswith("-2")  # a multipart ETag: two parts of 8 + 4 MiB


@pytest.mark.parametrize("limit", [100, PART_BYTES + 1024 * 1024])
def test_put_stream_over_the_limit_keeps_nothing(
    store: S3ObjectStore, endpoint: str, bucket: str, limit: int
) -> None:
    stream = CountingStream(12 * 1024 * 1024)
    with pytest.raises(MediaTooLargeError, match=f"{limit} bytes"):
        store.put_stream(bucket, "big.wav", stream, max_bytes=limit)  # type: ignore[arg-type]
    assert stream.bytes_read <= limit + 1
    assert not store.exists(bucket, "big.wav")
    uploads = s3_client(endpoint).list_multipart_uploads(Bucket=bucket)
    assert uploads.get("Uploads", []) == []


def test_put_stream_over_the_limit_keeps_the_earlier_object(
    store: S3ObjectStore, bucket: str
) -> None:
    store.put_bytes(bucket, "k", b"earlier", "text/plain")
    with pytest.raises(MediaTooLargeError):
        store.put_stream(bucket, "k", io.BytesIO(b"x" * 100), max_bytes=10)
    assert store.get_bytes(bucket, "k") == b"earlier"


def test_a_missing_key_is_not_found(store: S3ObjectStore, bucket: str, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=f"object 'nope.wav' in bucket '{bucket}'"):
        store.get_bytes(bucket, "nope.wav")
    with pytest.raises(NotFoundError, match=r"'nope\.wav'"):
        store.download(bucket, "nope.wav", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not store.exists(bucket, "nope.wav")


def test_a_missing_bucket_is_not_found(store: S3ObjectStore) -> None:
    missing = unique_bucket("missing")
    with pytest.raises(NotFoundError, match=f"bucket '{missing}' does not exist"):
        store.get_bytes(missing, "k")
    with pytest.raises(NotFoundError, match=f"bucket '{missing}' does not exist"):
        store.put_bytes(missing, "k", b"x", "text/plain")
    with pytest.raises(NotFoundError, match=f"bucket '{missing}'"):
        store.put_stream(missing, "k", io.BytesIO(b"x"))
    assert not store.exists(missing, "k")


def test_bad_names_are_refused_before_any_request(store: S3ObjectStore) -> None:
    with pytest.raises(InvalidOptionError, match="bucket name"):
        store.get_bytes("Bad_Bucket", "k")
    with pytest.raises(InvalidOptionError, match=r"'\.\.' path segments"):
        store.put_bytes("good-bucket", "a/../b", b"x", "text/plain")


def test_ensure_bucket_is_idempotent(store: S3ObjectStore, endpoint: str) -> None:
    name = unique_bucket()
    store.ensure_bucket(name)
    store.ensure_bucket(name)
    assert s3_client(endpoint).head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_ping_succeeds_on_a_running_server(store: S3ObjectStore) -> None:
    store.ping()


def test_a_store_that_is_down_fails_quickly_and_transiently(tmp_path: Path) -> None:
    down = make_store(unused_loopback_url(), connect_timeout_s=1, read_timeout_s=1, max_attempts=1)
    calls: list[Callable[[], object]] = [
        down.ping,
        lambda: down.get_bytes("some-bucket", "k"),
        lambda: down.put_bytes("some-bucket", "k", b"x", "text/plain"),
        lambda: down.put_stream("some-bucket", "k", io.BytesIO(b"x")),
        lambda: down.exists("some-bucket", "k"),
        lambda: down.download("some-bucket", "k", tmp_path / "out"),
    ]
    started = time.monotonic()
    for call in calls:
        with pytest.raises(TransientError, match="unreachable"):
            call()
    assert time.monotonic() - started < 10


def test_a_stopped_server_is_transient() -> None:
    with running_s3_server() as url:
        store = make_store(url, connect_timeout_s=1, read_timeout_s=1, max_attempts=1)
        store.ping()
    with pytest.raises(TransientError):
        store.ping()


def client_error(code: str, status: int) -> Exception:
    from botocore.exceptions import ClientError

    response: Any = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    error: Exception = ClientError(response, "Op")
    return error


@pytest.mark.parametrize(
    ("code", "status", "expected", "words"),
    [
        ("NoSuchKey", 404, NotFoundError, "object 'k' in bucket 'b'"),
        ("404", 404, NotFoundError, "not found"),
        ("NoSuchBucket", 404, NotFoundError, "bucket 'b' does not exist"),
        ("AccessDenied", 403, InvalidOptionError, "access denied to bucket 'b'"),
        ("403", 403, InvalidOptionError, "access denied to bucket 'b'"),
        ("SlowDown", 503, TransientError, "try again"),
        ("InternalError", 500, TransientError, "try again"),
        ("RequestTimeout", 400, TransientError, "try again"),
        ("Whatever", 502, TransientError, "try again"),
        ("InvalidArgument", 400, InvalidOptionError, "refused"),
    ],
)
def test_server_errors_are_translated(code: str, status: int, expected: type, words: str) -> None:
    error = _translate(client_error(code, status), "b", "k", "http://s3.test")
    assert type(error) is expected and words in str(error)


def test_connection_errors_are_transient() -> None:
    from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

    for exc in (
        EndpointConnectionError(endpoint_url="http://x"),
        ConnectTimeoutError(endpoint_url="http://x"),
        ReadTimeoutError(endpoint_url="http://x"),
    ):
        assert isinstance(_translate(exc, "b", "k", None), TransientError)
    assert _translate(ValueError("not boto's"), "b", "k", None) is None


def test_the_limited_reader_reads_whole_chunks_and_stops_past_the_limit() -> None:
    class Trickle(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            buffer[:3] = b"abc"[: len(buffer)]
            return min(3, len(buffer))

    reader = LimitedReader(Trickle(), max_bytes=20)  # type: ignore[arg-type]
    assert reader.read(10) == b"abcabcabca"
    assert len(reader.read(10)) == 10
    with pytest.raises(MediaTooLargeError):
        reader.read(10)
    assert reader.size == 21 and reader.over_limit


def test_size_and_byte_ranges(store: S3ObjectStore, bucket: str) -> None:
    store.put_bytes(bucket, "calls/a.wav", b"0123456789", "audio/wav")
    assert store.size(bucket, "calls/a.wav") == 10
    assert store.read_range(bucket, "calls/a.wav", 2, 3) == b"234"
    assert store.read_range(bucket, "calls/a.wav", 8, 100) == b"89"
    assert store.read_range(bucket, "calls/a.wav", 0, 0) == b""
    with pytest.raises(NotFoundError):
        store.size(bucket, "calls/missing.wav")
    with pytest.raises(NotFoundError):
        store.read_range(bucket, "calls/missing.wav", 0, 1)
