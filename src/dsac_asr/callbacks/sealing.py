"""Callback secrets at rest: sealed with the server's key, opened only to send.

The seed protocol sends a key back in the callback's ``X-API-KEY``. It is kept
sealed (``cryptography``'s Fernet: AES-128-CBC with an HMAC) under a server key
that never enters the database: ``DSAC_SECRET_KEY``, or for the embedded default
a random key generated once into the data dir. Every process that submits or
delivers (API, workers, sweeper) must use the same key.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from dsac_asr.errors import SecretError

SEALED_PREFIX = "fernet:"
KEY_FILE_NAME = "secret.key"


class SecretBox:
    """Seals and opens short secrets with one server key."""

    def __init__(self, server_key: str) -> None:
        digest = hashlib.sha256(server_key.encode("utf-8")).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    @classmethod
    def from_settings(cls, server_key: str | None, data_dir: Path) -> SecretBox:
        """The box for ``server_key``, or for the key kept in ``data_dir`` (made on first use)."""
        return cls(server_key if server_key else load_or_create_key(data_dir / KEY_FILE_NAME))

    def seal(self, secret: str) -> str:
        """``fernet:<token>``: the secret encrypted and authenticated."""
        return SEALED_PREFIX + self._fernet.encrypt(secret.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str:
        """The secret ``seal`` sealed; ``SecretError`` if it was sealed under another key.
        Text without the prefix (stored before secrets were sealed) is returned as is."""
        if not sealed.startswith(SEALED_PREFIX):
            return sealed
        try:
            return self._fernet.decrypt(sealed.removeprefix(SEALED_PREFIX)).decode("utf-8")
        except InvalidToken as exc:
            raise SecretError(
                "the callback key was sealed under another server key (DSAC_SECRET_KEY)"
            ) from exc


@functools.lru_cache(maxsize=8)
def secret_box(server_key: str | None, data_dir: Path) -> SecretBox:
    """``SecretBox.from_settings``, made once per process and key."""
    return SecretBox.from_settings(server_key, data_dir)


def load_or_create_key(path: Path) -> str:
    """The key in ``path``; a new random one written there (mode 0600) when absent.
    Processes starting together agree: the file appears whole, once (a hard link)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(32))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            draft.unlink()
    return path.read_text().strip()
