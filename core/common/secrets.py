"""Secrets at rest, for every integration (Slack tokens now, platform OAuth tokens next).

Keys are derived from RECAST_SECRET_KEY with HKDF-SHA256 under a per-purpose label, so a key made for one
purpose can't be replayed for another. Ciphertexts carry a version prefix (`fernet:v1:`) so a later key
scheme can be introduced beside this one. Changing RECAST_SECRET_KEY makes stored tokens unreadable:
the integration asks to be connected again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "fernet:v1:"


class Undecryptable(Exception):
    """A stored secret could not be decrypted with the current key."""


def derive_key(secret: str, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"recast", info=label).derive(secret.encode())


class SecretBox:
    """Fernet (AES-CBC + HMAC-SHA256, authenticated) under the key for `purpose`; the ciphertext is text."""

    def __init__(self, secret: str, purpose: bytes) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(derive_key(secret, purpose)))

    def encrypt(self, value: str | None) -> str | None:
        if value is None or value.startswith(PREFIX):
            return value
        return PREFIX + self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, value: str | None) -> str | None:
        # Values without the prefix were stored before encryption existed; the caller re-encrypts them.
        if value is None or not value.startswith(PREFIX):
            return value
        try:
            return self._fernet.decrypt(value.removeprefix(PREFIX).encode()).decode()
        except InvalidToken as exc:
            raise Undecryptable("not decryptable with the current RECAST_SECRET_KEY") from exc


def sign(secret: str, label: bytes, data: bytes, *, length: int = 12) -> bytes:
    """A MAC of `data` under the key for `label`, truncated to `length` bytes."""
    return hmac.new(derive_key(secret, label), data, hashlib.sha256).digest()[:length]


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
