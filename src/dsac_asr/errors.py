"""The one exception tree of dsac-asr.

Adapters translate their library's errors into these with ``raise ... from``;
only the outer shells (CLI, API) decide how an error is shown to a user.
Every error has a stable machine-readable ``code``.
"""

from __future__ import annotations


class DsacError(Exception):
    """Base of every error dsac-asr raises on purpose."""

    code = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputError(DsacError):
    """The caller's input cannot be processed; retrying will not help."""

    code = "invalid_input"


class NotMediaError(InputError):
    """The file is not an audio or video file that can be decoded."""

    code = "not_media"


class ForbiddenFormatError(InputError):
    """The file is a playlist or another format that references other files or URLs."""

    code = "forbidden_format"


class NoAudioStreamError(InputError):
    """The container holds no audio stream."""

    code = "no_audio_stream"


class EmptyMediaError(InputError):
    """The file is empty or holds no audio samples."""

    code = "empty_media"


class CorruptMediaError(InputError):
    """The media is corrupt or truncated beyond use."""

    code = "corrupt_media"


class MediaTooLongError(InputError):
    """The media lasts longer than the configured limit."""

    code = "media_too_long"


class MediaTooLargeError(InputError):
    """The file is larger than the configured limit."""

    code = "media_too_large"


class RequestTooLargeError(InputError):
    """A request (a JSON submission, its metadata) is larger than accepted."""

    code = "request_too_large"


class UnknownLanguageError(InputError):
    """A language code that dsac-asr does not know."""

    code = "unknown_language"


class InvalidOptionError(InputError):
    """An option value outside what is accepted."""

    code = "invalid_option"


class NotFoundError(DsacError):
    """Something asked for by name does not exist."""

    code = "not_found"


class ModelNotFoundError(NotFoundError):
    """No installed model has the requested id."""

    code = "model_not_found"


class NoModelForRequestError(NotFoundError):
    """No installed model serves the requested language, band and domain."""

    code = "no_model"


class ConflictError(DsacError):
    """The request clashes with the state of something else (another live job)."""

    code = "conflict"


class ObjectInUseError(ConflictError):
    """An object (a seed ``decoded/<TAG>.json``) belongs to another job that may still
    write it, or that another tenant wrote."""

    code = "object_in_use"


class ModelError(DsacError):
    """An installed model is broken or cannot be loaded or imported."""

    code = "model_error"


class EngineError(DsacError):
    """The recognition engine failed on audio it accepted."""

    code = "engine_error"


class DecodeTimeoutError(EngineError):
    """Recognition ran past its time budget (for example a hallucination loop)."""

    code = "decode_timeout"


class MissingExtraError(DsacError):
    """An optional part of dsac-asr is needed but not installed."""

    code = "missing_extra"


class TransientError(DsacError):
    """A temporary failure (a store or database unreachable); retrying may help."""

    code = "transient"


class SecretError(DsacError):
    """A stored secret cannot be opened (the server's key changed or differs)."""

    code = "secret_unreadable"


class KeyRefusedError(DsacError):
    """A callback would carry a key to a plain ``http://`` URL (the operator did not allow it)."""

    code = "key_over_http"
