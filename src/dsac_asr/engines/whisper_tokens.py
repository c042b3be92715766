"""The language token a Whisper model decodes with.

faster-whisper starts decoding with ``<|xx|>`` for the language code it is
given, and accepts only the codes of OpenAI's tokenizer. A fine-tune for a
language without such a code was trained with another language's token or
with none (the manifest's ``language_token``). For a token faster-whisper
does not know, or for none, the model's tokenizer is wrapped so that the
language token it looks up is the trained one (or absent): decoding then
starts exactly as in training, and Whisper never picks a language itself.
"""

from __future__ import annotations

import re
from typing import Any

from dsac_asr.errors import InvalidOptionError
from dsac_asr.models.languages import iso1_code
from dsac_asr.models.manifest import NO_LANGUAGE_TOKEN, ModelManifest

_LANGUAGE_TOKEN = re.compile(r"^<\|[a-z]{2,3}\|>$")
STAND_IN = "en"
"""The code given to faster-whisper when the wrapped tokenizer supplies the token."""


class TrainedLanguageToken:
    """A ``tokenizers.Tokenizer`` whose language tokens all stand for ``token``.

    ``token`` is a bare code (``zu`` for ``<|zu|>``) or None for no token; every
    other call goes to the wrapped tokenizer.
    """

    def __init__(self, tokenizer: Any, token: str | None) -> None:
        self._tokenizer = tokenizer
        self._token_id = None if token is None else tokenizer.token_to_id(f"<|{token}|>")

    def token_to_id(self, text: str) -> int | None:
        """The trained token's id for any language token; others as usual."""
        if _LANGUAGE_TOKEN.match(text):
            return self._token_id
        result: int | None = self._tokenizer.token_to_id(text)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tokenizer, name)


def known_codes() -> frozenset[str]:
    """The language codes faster-whisper accepts."""
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    return frozenset(_LANGUAGE_CODES)


def decoding_code(manifest: ModelManifest, language: str, known: frozenset[str]) -> str:
    """The code to give faster-whisper for ``language`` (``known``: the codes it accepts)."""
    token = manifest.language_token
    if token is not None and language in manifest.languages:
        return token if token in known else STAND_IN
    code = iso1_code(language)
    if code is None or code not in known:
        raise InvalidOptionError(f"Whisper has no code for language {language}")
    return code


def needs_wrapping(manifest: ModelManifest, known: frozenset[str]) -> bool:
    """True when the trained token is none or one faster-whisper does not accept."""
    token = manifest.language_token
    return token is not None and (token == NO_LANGUAGE_TOKEN or token not in known)


def wrap_tokenizer(whisper_model: Any, manifest: ModelManifest) -> None:
    """Make ``whisper_model`` (a faster-whisper WhisperModel) decode with the trained token."""
    token = manifest.language_token
    bare = None if token == NO_LANGUAGE_TOKEN else token
    whisper_model.hf_tokenizer = TrainedLanguageToken(whisper_model.hf_tokenizer, bare)
