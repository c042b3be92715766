"""Validation of bucket names, object keys and size limits, shared by every object store.

Names are checked, never repaired: a name that would have to be changed to be
safe (a ``..`` segment, a backslash, a leading ``/``) is refused with an
``InvalidOptionError`` that names the problem. Keys are stricter than S3
requires so that the same key means the same object in a local folder and in
S3: empty and ``.`` segments (``a//b``, ``a/./b``, ``a/``) are refused because
a file system would silently fold them into another key.
"""

from __future__ import annotations

import ipaddress
import re

from dsac_asr.errors import InvalidOptionError

MAX_KEY_BYTES = 1024
"""S3's limit on the UTF-8 length of a key."""

_BUCKET_CHARS = re.compile(r"[a-z0-9.-]+")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


def check_bucket(name: str) -> str:
    """Return ``name`` if it is a valid S3 bucket name, else raise ``InvalidOptionError``.

    S3's rules: 3 to 63 characters; lowercase letters, digits, dots and
    hyphens; first and last character a letter or digit; no ``..``; not an
    IPv4 address.
    """
    problem = _bucket_problem(name)
    if problem is not None:
        raise InvalidOptionError(f"invalid bucket name {name!r}: {problem}")
    return name


def _bucket_problem(name: str) -> str | None:
    """What is wrong with the bucket name, or None."""
    if not isinstance(name, str):
        return "it must be a string"
    if not 3 <= len(name) <= 63:
        return "it must be 3 to 63 characters long"
    if not _BUCKET_CHARS.fullmatch(name):
        return "only lowercase letters, digits, dots and hyphens are allowed"
    if not (name[0].isalnum() and name[-1].isalnum()):
        return "it must start and end with a letter or digit"
    if ".." in name:
        return "it must not contain two dots in a row"
    if _is_ipv4(name):
        return "it must not look like an IP address"
    return None


def _is_ipv4(name: str) -> bool:
    """Whether ``name`` is a dotted IPv4 address."""
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return False
    return True


def check_key(key: str) -> str:
    """Return ``key`` if it is a safe object key, else raise ``InvalidOptionError``.

    A key is non-empty text of at most 1024 UTF-8 bytes, without control
    characters (NUL included) or backslashes, not starting with ``/``, and
    made of ``/``-separated segments none of which is empty, ``.`` or ``..``.
    """
    problem = _key_problem(key)
    if problem is not None:
        raise InvalidOptionError(f"invalid object key {key!r}: {problem}")
    return key


def _key_problem(key: str) -> str | None:
    """What is wrong with the key, or None."""
    if not isinstance(key, str):
        return "it must be a string"
    if not key:
        return "it must not be empty"
    size_problem = _key_size_problem(key)
    if size_problem is not None:
        return size_problem
    if _CONTROL_CHARS.search(key):
        return "it must not contain NUL or other control characters"
    if "\\" in key:
        return "it must not contain backslashes"
    if key.startswith("/"):
        return "it must not start with '/'"
    return _segment_problem(key.split("/"))


def _key_size_problem(key: str) -> str | None:
    """Whether the key is encodable as UTF-8 and short enough."""
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        return "it is not valid Unicode text"
    if size > MAX_KEY_BYTES:
        return f"it is {size} bytes long in UTF-8, over the limit of {MAX_KEY_BYTES}"
    return None


def _segment_problem(segments: list[str]) -> str | None:
    """What is wrong with the key's ``/``-separated segments, or None."""
    if ".." in segments:
        return "it must not contain '..' path segments"
    if "." in segments:
        return "it must not contain '.' path segments"
    if "" in segments:
        return "it must not contain empty path segments ('//' or a trailing '/')"
    return None


def check_max_bytes(max_bytes: int | None) -> int | None:
    """Return the size limit if it is None or not negative, else raise ``InvalidOptionError``."""
    if max_bytes is not None and max_bytes < 0:
        raise InvalidOptionError(f"max_bytes must not be negative, got {max_bytes}")
    return max_bytes
