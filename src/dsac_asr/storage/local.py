"""The embedded object store: a local folder with one subfolder per bucket.

``root/<bucket>/<key>``, where the key's ``/`` segments become nested folders.
Bucket folders are created on first write. Every path is resolved and must
stay inside the bucket folder, so a symlink planted inside it cannot lead a
read or a write elsewhere (the bucket folder itself must not be a symlink).
Writes go to a hidden temporary file (mode 0600) in the destination folder
and are moved into place with ``os.replace``: readers never see half a file.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

from dsac_asr.errors import (
    DsacError,
    InvalidOptionError,
    MediaTooLargeError,
    NotFoundError,
    TransientError,
)
from dsac_asr.storage.keys import check_bucket, check_key, check_max_bytes

CHUNK_BYTES = 1024 * 1024
"""How much of a stream is copied at a time."""

_MKDIR_ATTEMPTS = 3
"""A concurrent ``delete`` may prune a folder between mkdir and the write."""


class LocalObjectStore:
    """An ``ObjectStore`` in a local folder (the embedded default)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def put_stream(
        self, bucket: str, key: str, stream: BinaryIO, *, max_bytes: int | None = None
    ) -> int:
        """Copy ``stream`` into the object; over ``max_bytes`` keep nothing."""
        check_max_bytes(max_bytes)
        return self._write(bucket, key, lambda out: copy_limited(stream, out, max_bytes))

    def put_bytes(self, bucket: str, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` (a folder has no place for ``content_type``)."""
        self._write(bucket, key, lambda out: out.write(data))

    def get_bytes(self, bucket: str, key: str) -> bytes:
        """The object's content."""
        path = self._object_path(bucket, key)
        with _os_errors(bucket, key):
            return path.read_bytes()

    def size(self, bucket: str, key: str) -> int:
        """The object's size in bytes."""
        path = self._object_path(bucket, key)
        with _os_errors(bucket, key):
            if not path.is_file():
                raise FileNotFoundError(str(path))
            return path.stat().st_size

    def read_range(self, bucket: str, key: str, start: int, length: int) -> bytes:
        """Up to ``length`` bytes from byte ``start`` (fewer at the end of the object)."""
        path = self._object_path(bucket, key)
        with _os_errors(bucket, key), path.open("rb") as source:
            source.seek(start)
            return source.read(length)

    def download(self, bucket: str, key: str, target: Path) -> int:
        """Copy the object to ``target``; return its size.

        Errors opening ``target`` itself are the caller's and are not translated.
        """
        path = self._object_path(bucket, key)
        with _os_errors(bucket, key):
            source = path.open("rb")
        with source, Path(target).open("wb") as out:
            shutil.copyfileobj(source, out, CHUNK_BYTES)
            return out.tell()

    def delete(self, bucket: str, key: str) -> None:
        """Remove the object and the folders it leaves empty (not the bucket folder)."""
        path = self._object_path(bucket, key)
        gone = (FileNotFoundError, NotADirectoryError, IsADirectoryError)
        with _os_errors(bucket, key, writing=True), suppress(*gone):
            path.unlink()
        _prune_empty_folders(path.parent, self._bucket_path(bucket))

    def exists(self, bucket: str, key: str) -> bool:
        """Whether the object exists (a folder of other keys is not an object)."""
        return self._object_path(bucket, key).is_file()

    def ping(self) -> None:
        """Create the root folder if missing and check that a file can be written there."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.root):
                pass
        except OSError as exc:
            raise TransientError(f"local object store {self.root} is not writable: {exc}") from exc

    def ensure_bucket(self, bucket: str) -> None:
        """Create the bucket folder if it is missing."""
        path = self._bucket_path(bucket)
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TransientError(f"cannot create bucket folder {path}: {exc}") from exc

    def _bucket_path(self, bucket: str) -> Path:
        """The bucket's folder (resolved root, unresolved bucket name)."""
        return self.root.resolve() / check_bucket(bucket)

    def _object_path(self, bucket: str, key: str) -> Path:
        """The object's file, refused if it resolves outside the bucket folder."""
        bucket_path = self._bucket_path(bucket)
        path = bucket_path / check_key(key)
        resolved = path.resolve()
        if resolved == bucket_path or not resolved.is_relative_to(bucket_path):
            raise InvalidOptionError(
                f"object key {key!r} resolves outside bucket {bucket!r} (a symbolic link?)"
            )
        return path

    def _write(self, bucket: str, key: str, write: Callable[[BinaryIO], int]) -> int:
        """Write the object atomically through ``write``; return the bytes written."""
        path = self._object_path(bucket, key)
        try:
            with _os_errors(bucket, key, writing=True):
                return _write_atomically(path, write)
        except BaseException:
            _prune_empty_folders(path.parent, self._bucket_path(bucket))
            raise


def copy_limited(source: BinaryIO, target: BinaryIO, max_bytes: int | None) -> int:
    """Copy ``source`` to ``target`` and return the size; ``MediaTooLargeError``
    as soon as more than ``max_bytes`` have been read (at most one byte more)."""
    size = 0
    while True:
        want = CHUNK_BYTES if max_bytes is None else min(CHUNK_BYTES, max_bytes - size + 1)
        chunk = source.read(want)
        if not chunk:
            return size
        size += len(chunk)
        if max_bytes is not None and size > max_bytes:
            raise MediaTooLargeError(f"the upload is larger than the limit of {max_bytes} bytes")
        target.write(chunk)


def _write_atomically(path: Path, write: Callable[[BinaryIO], int]) -> int:
    """Write a temporary file beside ``path`` through ``write``, then move it into place."""
    fd, temp_name = _make_temp_file(path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
            size = out.tell()
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return size


def _make_temp_file(folder: Path) -> tuple[int, str]:
    """Create ``folder`` and a hidden temporary file in it (retrying a concurrent prune)."""
    for attempt in range(_MKDIR_ATTEMPTS):
        folder.mkdir(parents=True, exist_ok=True)
        try:
            return tempfile.mkstemp(dir=folder, prefix=".", suffix=".part")
        except FileNotFoundError:
            if attempt == _MKDIR_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _prune_empty_folders(folder: Path, stop: Path) -> None:
    """Remove ``folder`` and its empty parents, up to but not including ``stop``."""
    while folder != stop and folder.is_relative_to(stop):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


@contextmanager
def _os_errors(bucket: str, key: str, *, writing: bool = False) -> Iterator[None]:
    """Translate file-system errors into the dsac-asr exception tree."""
    try:
        yield
    except (DsacError, ConnectionError, TimeoutError):
        raise  # network errors come from the caller's stream, not from the folder
    except OSError as exc:
        raise _translate(exc, bucket, key, writing=writing) from exc


def _translate(exc: OSError, bucket: str, key: str, *, writing: bool) -> DsacError:
    """The dsac-asr error for a file-system error on ``bucket``/``key``."""
    where = f"object {key!r} in bucket {bucket!r}"
    path_clash = isinstance(exc, IsADirectoryError | NotADirectoryError | FileExistsError)
    if not writing and (path_clash or isinstance(exc, FileNotFoundError)):
        return NotFoundError(f"{where} not found")
    if writing and path_clash:
        return InvalidOptionError(
            f"{where} clashes with another key: one of them is a folder prefix of the other"
        )
    if exc.errno == errno.ENAMETOOLONG:
        return InvalidOptionError(f"{where}: a path segment is too long for the file system")
    return TransientError(f"local object store cannot access {where}: {exc}")
