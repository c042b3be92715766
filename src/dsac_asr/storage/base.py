"""The object store interface: buckets of keyed blobs (a local folder or S3)."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, Protocol


class ObjectStore(Protocol):
    """Blobs by (bucket, key). Missing objects raise ``NotFoundError``; an
    unreachable store raises ``TransientError``; a bad bucket or key raises
    ``InvalidOptionError``."""

    def put_stream(
        self, bucket: str, key: str, stream: BinaryIO, *, max_bytes: int | None = None
    ) -> int:
        """Store what ``stream`` yields and return its size.

        Over ``max_bytes``: ``MediaTooLargeError``, and nothing is kept.
        """
        ...

    def put_bytes(self, bucket: str, key: str, data: bytes, content_type: str) -> None:
        """Store ``data``."""
        ...

    def get_bytes(self, bucket: str, key: str) -> bytes:
        """The object's content."""
        ...

    def size(self, bucket: str, key: str) -> int:
        """The object's size in bytes."""
        ...

    def read_range(self, bucket: str, key: str, start: int, length: int) -> bytes:
        """Up to ``length`` bytes of the object from byte ``start`` (fewer at its end)."""
        ...

    def download(self, bucket: str, key: str, target: Path) -> int:
        """Write the object to the file ``target``; return its size."""
        ...

    def delete(self, bucket: str, key: str) -> None:
        """Remove the object (no error if it is already gone)."""
        ...

    def exists(self, bucket: str, key: str) -> bool:
        """Whether the object exists."""
        ...

    def ping(self) -> None:
        """Raise ``TransientError`` unless the store is reachable."""
        ...

    def ensure_bucket(self, bucket: str) -> None:
        """Create ``bucket`` unless it exists."""
        ...
