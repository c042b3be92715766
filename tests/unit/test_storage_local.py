"""The local folder object store: layout, atomic writes, limits, traversal defences."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, cast

import pytest

from dsac_asr.errors import (
    InvalidOptionError,
    MediaTooLargeError,
    MissingExtraError,
    NotFoundError,
    TransientError,
)
from dsac_asr.storage import LocalObjectStore, S3ObjectStore, open_object_store
from dsac_asr.storage.local import CHUNK_BYTES

BUCKET = "audio"


@pytest.fixture
def store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "objects")


def files_under(folder: Path) -> list[str]:
    """Every file and folder below ``folder``, relative, sorted."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


class CountingStream(io.RawIOBase):
    """An endless stream of zeros that counts how much was read from it."""

    def __init__(self) -> None:
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        self.bytes_read += len(buffer)
        buffer[:] = b"\0" * len(buffer)
        return len(buffer)


def test_objects_live_at_root_bucket_key(store: LocalObjectStore) -> None:
    store.put_bytes(BUCKET, "calls/2024/a.wav", b"RIFF", "audio/wav")
    assert (store.root / BUCKET / "calls" / "2024" / "a.wav").read_bytes() == b"RIFF"
    assert store.get_bytes(BUCKET, "calls/2024/a.wav") == b"RIFF"
    assert store.exists(BUCKET, "calls/2024/a.wav")


def test_put_stream_returns_the_size_and_overwrites(store: LocalObjectStore) -> None:
    store.put_bytes(BUCKET, "k", b"old content", "text/plain")
    data = os.urandom(3 * CHUNK_BYTES + 17)
    assert store.put_stream(BUCKET, "k", io.BytesIO(data)) == len(data)
    assert store.get_bytes(BUCKET, "k") == data


def test_an_empty_stream_makes_an_empty_object(store: LocalObjectStore) -> None:
    assert store.put_stream(BUCKET, "empty", io.BytesIO(b"")) == 0
    assert store.get_bytes(BUCKET, "empty") == b""


def test_a_stream_of_exactly_max_bytes_is_accepted(store: LocalObjectStore) -> None:
    assert store.put_stream(BUCKET, "k", io.BytesIO(b"12345"), max_bytes=5) == 5


def test_over_max_bytes_stops_reading_and_keeps_nothing(store: LocalObjectStore) -> None:
    stream = CountingStream()
    with pytest.raises(MediaTooLargeError, match="1000000 bytes"):
        store.put_stream(BUCKET, "deep/er/big.wav", cast(BinaryIO, stream), max_bytes=1_000_000)
    assert stream.bytes_read <= 1_000_001
    assert not store.exists(BUCKET, "deep/er/big.wav")
    assert files_under(store.root / BUCKET) == []


def test_over_max_bytes_keeps_the_earlier_object(store: LocalObjectStore) -> None:
    store.put_bytes(BUCKET, "k", b"earlier", "text/plain")
    with pytest.raises(MediaTooLargeError):
        store.put_stream(BUCKET, "k", io.BytesIO(b"x" * 100), max_bytes=10)
    assert store.get_bytes(BUCKET, "k") == b"earlier"
    assert files_under(store.root / BUCKET) == ["k"]


class FailingStream(io.RawIOBase):
    """Yields some bytes, then fails like a dropped upload."""

    def __init__(self, path_seen: list[str], folder: Path) -> None:
        self.calls = 0
        self.path_seen = path_seen
        self.folder = folder

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        self.calls += 1
        if self.calls > 1:
            self.path_seen.extend(files_under(self.folder))
            raise ConnectionResetError("client went away")
        buffer[:4] = b"half"
        return 4


def test_writes_are_atomic(store: LocalObjectStore) -> None:
    store.put_bytes(BUCKET, "k", b"complete", "text/plain")
    seen: list[str] = []
    with pytest.raises(ConnectionResetError):
        stream = cast(BinaryIO, FailingStream(seen, store.root / BUCKET))
        store.put_stream(BUCKET, "k", stream)
    temp_files = [name for name in seen if name != "k"]
    assert len(temp_files) == 1 and temp_files[0].startswith(".")
    assert store.get_bytes(BUCKET, "k") == b"complete"
    assert files_under(store.root / BUCKET) == ["k"]


def test_a_negative_limit_is_refused(store: LocalObjectStore) -> None:
    with pytest.raises(InvalidOptionError, match="negative"):
        store.put_stream(BUCKET, "k", io.BytesIO(b"x"), max_bytes=-1)


def test_download_copies_the_object(store: LocalObjectStore, tmp_path: Path) -> None:
    data = os.urandom(CHUNK_BYTES + 5)
    store.put_bytes(BUCKET, "a/b.wav", data, "audio/wav")
    target = tmp_path / "copy.wav"
    assert store.download(BUCKET, "a/b.wav", target) == len(data)
    assert target.read_bytes() == data


@pytest.mark.parametrize("key", ["missing.wav", "a/missing.wav", "a", "a/b.wav/c"])
def test_a_missing_object_is_not_found_naming_bucket_and_key(
    store: LocalObjectStore, tmp_path: Path, key: str
) -> None:
    store.put_bytes(BUCKET, "a/b.wav", b"x", "audio/wav")
    for read in (
        lambda: store.get_bytes(BUCKET, key),
        lambda: store.download(BUCKET, key, tmp_path / "out"),
    ):
        with pytest.raises(NotFoundError, match=f"{key!r} in bucket 'audio'"):
            read()
    assert not store.exists(BUCKET, key)
    assert not (tmp_path / "out").exists()


def test_a_missing_bucket_is_not_found(store: LocalObjectStore) -> None:
    with pytest.raises(NotFoundError, match="'nobucket'"):
        store.get_bytes("nobucket", "k")
    assert not store.exists("nobucket", "k")


def test_delete_prunes_empty_folders_up_to_the_bucket(store: LocalObjectStore) -> None:
    store.put_bytes(BUCKET, "a/b/c/one", b"1", "text/plain")
    store.put_bytes(BUCKET, "a/two", b"2", "text/plain")
    store.delete(BUCKET, "a/b/c/one")
    assert files_under(store.root / BUCKET) == ["a", "a/two"]
    store.delete(BUCKET, "a/two")
    assert files_under(store.root / BUCKET) == []
    assert (store.root / BUCKET).is_dir()


@pytest.mark.parametrize("key", ["never", "a/never", "a/b/never", "a/b"])
def test_deleting_what_is_not_there_is_fine(store: LocalObjectStore, key: str) -> None:
    store.put_bytes(BUCKET, "a/b/c", b"1", "text/plain")
    store.delete(BUCKET, key)
    store.delete("otherbucket", key)
    assert store.get_bytes(BUCKET, "a/b/c") == b"1"


def test_a_key_clashing_with_a_folder_is_refused(store: LocalObjectStore) -> None:
    store.put_bytes(BUCKET, "a/b", b"1", "text/plain")
    with pytest.raises(InvalidOptionError, match="clashes"):
        store.put_bytes(BUCKET, "a", b"2", "text/plain")
    with pytest.raises(InvalidOptionError, match="clashes"):
        store.put_bytes(BUCKET, "a/b/c", b"3", "text/plain")
    assert files_under(store.root / BUCKET) == ["a", "a/b"]


@pytest.mark.parametrize("key", ["../x", "a/../../b", "/etc/passwd", "a\\..\\..\\b", "a/./b"])
def test_traversal_keys_are_refused_everywhere(store: LocalObjectStore, key: str) -> None:
    calls: list[Callable[[], object]] = [
        lambda: store.put_bytes(BUCKET, key, b"x", "text/plain"),
        lambda: store.put_stream(BUCKET, key, io.BytesIO(b"x")),
        lambda: store.get_bytes(BUCKET, key),
        lambda: store.exists(BUCKET, key),
        lambda: store.delete(BUCKET, key),
    ]
    for call in calls:
        with pytest.raises(InvalidOptionError):
            call()
    assert not store.root.exists() or files_under(store.root) == []


@pytest.mark.parametrize("bucket", ["..", ".", "a/b", "../outside", "UPPER"])
def test_bad_bucket_names_are_refused(store: LocalObjectStore, bucket: str) -> None:
    with pytest.raises(InvalidOptionError, match="bucket name"):
        store.put_bytes(bucket, "k", b"x", "text/plain")


@pytest.fixture
def planted(store: LocalObjectStore, tmp_path: Path) -> Path:
    """A symlinked folder and file inside the bucket that point outside it."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"secret")
    bucket = store.root / BUCKET
    bucket.mkdir(parents=True)
    (bucket / "dir-link").symlink_to(outside, target_is_directory=True)
    (bucket / "file-link").symlink_to(outside / "secret")
    return outside


@pytest.mark.parametrize("key", ["dir-link/secret", "file-link", "dir-link/new"])
def test_symlinks_out_of_the_bucket_are_refused(
    store: LocalObjectStore, planted: Path, tmp_path: Path, key: str
) -> None:
    calls: list[Callable[[], object]] = [
        lambda: store.put_bytes(BUCKET, key, b"pwned", "text/plain"),
        lambda: store.put_stream(BUCKET, key, io.BytesIO(b"pwned")),
        lambda: store.get_bytes(BUCKET, key),
        lambda: store.download(BUCKET, key, tmp_path / "out"),
        lambda: store.exists(BUCKET, key),
        lambda: store.delete(BUCKET, key),
    ]
    for call in calls:
        with pytest.raises(InvalidOptionError, match="outside bucket"):
            call()
    assert files_under(planted) == ["secret"]
    assert (planted / "secret").read_bytes() == b"secret"


def test_a_symlinked_bucket_folder_is_refused(store: LocalObjectStore, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    store.root.mkdir()
    (store.root / BUCKET).symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(InvalidOptionError, match="outside bucket"):
        store.put_bytes(BUCKET, "k", b"x", "text/plain")
    assert list(elsewhere.iterdir()) == []


def test_a_symlink_that_stays_inside_the_bucket_is_followed(store: LocalObjectStore) -> None:
    store.put_bytes(BUCKET, "real/file", b"inside", "text/plain")
    (store.root / BUCKET / "alias").symlink_to(store.root / BUCKET / "real")
    assert store.get_bytes(BUCKET, "alias/file") == b"inside"


def test_a_relative_root_behind_a_symlink_works(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    store = LocalObjectStore(tmp_path / "link")
    store.put_bytes(BUCKET, "k", b"x", "text/plain")
    assert (tmp_path / "real" / BUCKET / "k").read_bytes() == b"x"


def test_ping_creates_a_missing_root(store: LocalObjectStore) -> None:
    store.ping()
    assert store.root.is_dir()
    assert files_under(store.root) == []


def test_ping_fails_when_the_root_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(TransientError, match="not writable"):
        LocalObjectStore(tmp_path / "file").ping()


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only folders")
def test_ping_fails_when_the_root_is_read_only(tmp_path: Path) -> None:
    root = tmp_path / "ro"
    root.mkdir(mode=0o500)
    with pytest.raises(TransientError, match="not writable"):
        LocalObjectStore(root).ping()


def test_ensure_bucket_creates_the_folder(store: LocalObjectStore) -> None:
    store.ensure_bucket(BUCKET)
    store.ensure_bucket(BUCKET)
    assert (store.root / BUCKET).is_dir()


def test_the_factory_opens_a_folder_store(tmp_path: Path) -> None:
    default = open_object_store(None, local_root=tmp_path / "d")
    bare = open_object_store("file://", local_root=tmp_path / "d")
    named = open_object_store(f"file://{tmp_path}/x%20y", local_root=tmp_path / "d")
    assert isinstance(default, LocalObjectStore) and default.root == tmp_path / "d"
    assert isinstance(bare, LocalObjectStore) and bare.root == tmp_path / "d"
    assert isinstance(named, LocalObjectStore) and named.root == tmp_path / "x y"


def test_the_factory_opens_an_s3_store(tmp_path: Path) -> None:
    store = open_object_store("s3://", local_root=tmp_path, endpoint_url="http://127.0.0.1:9")
    assert isinstance(store, S3ObjectStore) and store.endpoint_url == "http://127.0.0.1:9"


@pytest.mark.parametrize(
    "url", ["s3://bucket", "s3://bucket/prefix", "file://host/x", "/plain/path", "http://x"]
)
def test_the_factory_refuses_urls_it_would_have_to_guess_at(tmp_path: Path, url: str) -> None:
    with pytest.raises(InvalidOptionError, match=repr(url).replace("\\", "\\\\")):
        open_object_store(url, local_root=tmp_path)


def test_importing_the_package_does_not_import_boto3() -> None:
    code = "import sys, dsac_asr.storage; print('boto3' in sys.modules, 'botocore' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.split() == ["False", "False"], result.stderr


def test_an_s3_store_without_boto3_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'dsac-asr\[s3\]'"):
        open_object_store("s3://", local_root=Path("unused"))


def test_size_and_byte_ranges(store: LocalObjectStore) -> None:
    store.put_bytes(BUCKET, "calls/a.wav", b"0123456789", "audio/wav")
    assert store.size(BUCKET, "calls/a.wav") == 10
    assert store.read_range(BUCKET, "calls/a.wav", 2, 3) == b"234"
    assert store.read_range(BUCKET, "calls/a.wav", 8, 100) == b"89"
    with pytest.raises(NotFoundError):
        store.size(BUCKET, "calls/missing.wav")
    with pytest.raises(NotFoundError):
        store.size(BUCKET, "calls")  # a folder of keys is not an object
    with pytest.raises(NotFoundError):
        store.read_range(BUCKET, "calls/missing.wav", 0, 1)
