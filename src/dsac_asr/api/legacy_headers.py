"""The seed's submission protocol: a job described by request headers.

Pure parsing, no HTTP: ``normalize_headers`` folds header names (any case,
``_`` or ``-``) to the seed's spelling (``X_API_KEY``), and
``parse_seed_headers`` turns them into a ``SeedRequest`` or raises an
``InputError`` naming the header. ``docs/seed-protocol.md`` documents each one.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, TypeVar

from dsac_asr.egress.policy import check_url_syntax
from dsac_asr.errors import InputError
from dsac_asr.models.languages import normalize_language
from dsac_asr.models.manifest import Band
from dsac_asr.storage.keys import check_bucket, check_key

API_KEY = "X_API_KEY"
REQUIRED = ("DEC_LANG", "SR", "NUM_CHANNELS", "SAC", "DIA", "BUCKET_NAME", "USER_ID")
"""Required besides ``X_API_KEY``; ``OBJECT_PATH`` is required unless ``OBJECT_URL`` is given."""

MAX_SPEAKERS = 32
MAX_CHANNELS = 32
_NONE = "none"
_TRUE = frozenset({"yes", "y", "true", "1"})
_FALSE = frozenset({"no", "n", "false", "0"})
_TAG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_HEADER_SAFE = re.compile(r"^[\x20-\x7e]{1,200}$")
T = TypeVar("T")


class MissingHeaderError(InputError):
    """A required header is absent (or empty)."""

    code = "missing_header"


class InvalidHeaderError(InputError):
    """A header's value is not one the protocol accepts."""

    code = "invalid_header"


@dataclass(frozen=True)
class SeedRequest:
    """One job as the seed's headers describe it (values checked, defaults filled in)."""

    language: str
    band: str
    channels: Literal["auto", "separate"]
    punctuate: bool
    diarize: bool
    speakers: int | None
    domain: str | None
    private: bool
    tag: str
    client_job_id: str
    user_id: str
    bucket: str
    object_path: str | None
    object_url: str | None
    return_url: str | None
    fe_api_key: str | None


def normalize_headers(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Header names upper-cased with ``-`` as ``_`` (``x-api-key`` -> ``X_API_KEY``);
    values stripped; the first of repeated headers wins."""
    headers: dict[str, str] = {}
    for name, value in items:
        headers.setdefault(name.strip().upper().replace("-", "_"), value.strip())
    return headers


def api_key_from(headers: Mapping[str, str]) -> str:
    """The ``X_API_KEY`` header of normalized ``headers``; ``MissingHeaderError`` without it."""
    key = headers.get(API_KEY, "")
    if not key:
        raise MissingHeaderError(f"missing required header {API_KEY}")
    return key


def parse_seed_headers(headers: Mapping[str, str]) -> SeedRequest:
    """The job that normalized ``headers`` describe; unknown headers are ignored."""
    _require(headers)
    tag = _tag(headers.get("TAG"))
    object_url = _url("OBJECT_URL", _optional(headers, "OBJECT_URL"))
    return SeedRequest(
        language=_checked("DEC_LANG", normalize_language, headers["DEC_LANG"]),
        band=_band(headers["SR"]),
        channels=_channels(headers["NUM_CHANNELS"]),
        punctuate=_flag("SAC", headers["SAC"]),
        diarize=_flag("DIA", headers["DIA"]),
        speakers=_speakers(headers.get("NUM_SPK")),
        domain=_optional(headers, "CUSTOM_GRAPH"),
        private=_flag("PRIV", headers.get("PRIV") or "no"),
        tag=tag,
        client_job_id=_header_safe("JOB_ID", headers.get("JOB_ID") or tag),
        user_id=_header_safe("USER_ID", headers["USER_ID"]),
        bucket=_checked("BUCKET_NAME", check_bucket, headers["BUCKET_NAME"]),
        object_path=_object_path(headers, object_url),
        object_url=object_url,
        return_url=_url("RETURN_URL", _optional(headers, "RETURN_URL")),
        fe_api_key=_optional(headers, "FE_API_KEY"),
    )


def _require(headers: Mapping[str, str]) -> None:
    """Name every required header that is missing or empty."""
    missing = [name for name in REQUIRED if not headers.get(name)]
    if not headers.get("OBJECT_PATH") and _optional(headers, "OBJECT_URL") is None:
        missing.append("OBJECT_PATH")
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise MissingHeaderError(f"missing required header{plural} {', '.join(missing)}")


def _optional(headers: Mapping[str, str], name: str) -> str | None:
    """An optional header's value; absent, empty or ``none`` give None."""
    value = headers.get(name, "")
    return None if not value or value.lower() == _NONE else value


def _flag(name: str, value: str) -> bool:
    """``yes``/``no`` (also ``true``/``false``, ``1``/``0``), any case."""
    text = value.lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise InvalidHeaderError(f"header {name} must be yes or no, not {value!r}")


def _integer(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise InvalidHeaderError(f"header {name} must be a whole number, not {value!r}") from None


def _band(value: str) -> str:
    """``NB``/``8000`` -> ``nb`` (8 kHz), ``BB``/``WB``/``16000`` -> ``bb`` (16 kHz)."""
    try:
        return Band.parse(value).value
    except ValueError:
        message = f"header SR must be NB (8 kHz), BB (16 kHz), 8000 or 16000, not {value!r}"
        raise InvalidHeaderError(message) from None


def _channels(value: str) -> Literal["auto", "separate"]:
    """1 -> ``auto`` (mono, or stereo the audio shows to be two sides); 2+ -> ``separate``."""
    count = _integer("NUM_CHANNELS", value)
    if not 1 <= count <= MAX_CHANNELS:
        raise InvalidHeaderError(f"header NUM_CHANNELS must be 1 to {MAX_CHANNELS}, not {count}")
    return "auto" if count == 1 else "separate"


def _speakers(value: str | None) -> int | None:
    """``NUM_SPK`` (default 1); zero or negative (the front end's -1) means unknown."""
    count = 1 if not value else _integer("NUM_SPK", value)
    if count > MAX_SPEAKERS:
        raise InvalidHeaderError(f"header NUM_SPK must be at most {MAX_SPEAKERS}, not {count}")
    return count if count > 0 else None


def _tag(value: str | None) -> str:
    """The client's ``TAG`` (names ``decoded/<TAG>.json``), or a fresh random one."""
    if not value:
        return uuid.uuid4().hex
    if not _TAG.match(value):
        raise InvalidHeaderError(
            f"header TAG must be 1-128 letters, digits, '.', '_' or '-', not {value!r}"
        )
    return value


def _header_safe(name: str, value: str) -> str:
    """Text that can be sent back in a callback header: printable ASCII, at most 200."""
    if not _HEADER_SAFE.match(value):
        raise InvalidHeaderError(f"header {name} must be 1-200 printable ASCII characters")
    return value


def _url(name: str, value: str | None) -> str | None:
    """An http(s) URL without credentials (where it points is checked when it is used)."""
    if value is not None:
        _checked(name, check_url_syntax, value)
    return value


def _object_path(headers: Mapping[str, str], object_url: str | None) -> str | None:
    """``OBJECT_PATH`` as a safe key; unused (None) when ``OBJECT_URL`` is given."""
    value = headers.get("OBJECT_PATH", "")
    if object_url is not None and (not value or value.lower() == _NONE):
        return None
    return _checked("OBJECT_PATH", check_key, value)


def _checked(name: str, check: Callable[[str], T], value: str) -> T:
    """``check(value)``; its ``InputError`` becomes ``InvalidHeaderError`` naming ``name``."""
    try:
        return check(value)
    except InputError as exc:
        raise InvalidHeaderError(f"header {name}: {exc.message}") from exc
