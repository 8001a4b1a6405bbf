"""Secrets at rest, for every integration (Slack tokens now, platform OAuth tokens next).

Keys are derived from RECAST_SECRET_KEY with HKDF-SHA256 under a per-purpose label, so a key made for one
purpose can't be replayed for another.

Rotation: a ciphertext names the key that made it (`fernet:v2:<key id>:…`, the id a MAC of the key, never
the key). A box holds the current key and the previous ones (RECAST_SECRET_KEYS_OLD): it encrypts with
the current one and decrypts with whichever made the value; `recast rotate-keys` re-encrypts stored values
under the current key, after which the old key can be dropped. `fernet:v1:` values (before key ids) are
tried with every key. Signed links and states verify under any of the keys (`verify`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.common import redaction

ENCRYPTED = "fernet:"  # every ciphertext starts so; a value without it was stored before encryption existed
PREFIX = "fernet:v1:"  # no key id: tried with every key
KEYED = "fernet:v2:"  # fernet:v2:<key id>:<token>


class Undecryptable(Exception):
    """A stored secret could not be decrypted with the current key."""


def derive_key(secret: str, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"recast", info=label).derive(secret.encode())


def key_id(secret: str) -> str:
    """A short public name for a key (a MAC under it), so a ciphertext can say which key made it."""
    return b64(sign(secret, b"key-id", b"recast", length=6))


def keyring(secrets: str | Sequence[str]) -> list[str]:
    keys = [secrets] if isinstance(secrets, str) else [k for k in secrets if k]
    if not keys:
        raise ValueError("at least one secret key is needed")
    return keys


class SecretBox:
    """Fernet (AES-CBC + HMAC-SHA256, authenticated) under the key for `purpose`; the ciphertext is text.
    `secrets` is the current key, or the current key followed by the previous ones."""

    def __init__(self, secrets: str | Sequence[str], purpose: bytes) -> None:
        keys = keyring(secrets)
        self._current = key_id(keys[0])
        self._fernets = {key_id(k): Fernet(base64.urlsafe_b64encode(derive_key(k, purpose))) for k in keys}

    def encrypt(self, value: str | None) -> str | None:
        if value is None or value.startswith(ENCRYPTED):
            return value
        redaction.register(value)  # a token on its way to storage: never to be logged from now on
        return f"{KEYED}{self._current}:{self._fernets[self._current].encrypt(value.encode()).decode()}"

    def decrypt(self, value: str | None) -> str | None:
        # Values without the prefix were stored before encryption existed; the caller re-encrypts them.
        if value is None or not value.startswith(ENCRYPTED):
            redaction.register(value)
            return value
        if value.startswith(KEYED):
            kid, _, token = value.removeprefix(KEYED).partition(":")
            candidates = [self._fernets[kid]] if kid in self._fernets else []
        else:
            token, candidates = value.removeprefix(PREFIX), list(self._fernets.values())
        for fernet in candidates:
            try:
                plain = fernet.decrypt(token.encode()).decode()
            except InvalidToken:
                continue
            redaction.register(plain)  # decrypted for a call: redacted wherever it might show up
            return plain
        raise Undecryptable("not decryptable with RECAST_SECRET_KEY or any of RECAST_SECRET_KEYS_OLD")

    def is_current(self, value: str | None) -> bool:
        """True when the value needs no re-encryption (none, or made by the current key)."""
        return value is None or value.startswith(f"{KEYED}{self._current}:")

    def reencrypt(self, value: str | None) -> str | None:
        """The value under the current key (a plaintext one encrypted, an old key's one re-made)."""
        if self.is_current(value):
            return value
        return self.encrypt(self.decrypt(value))


def sign(secret: str, label: bytes, data: bytes, *, length: int = 12) -> bytes:
    """A MAC of `data` under the key for `label`, truncated to `length` bytes."""
    return hmac.new(derive_key(secret, label), data, hashlib.sha256).digest()[:length]


def verify(secrets: str | Sequence[str], label: bytes, data: bytes, mac: bytes, *, length: int = 12) -> bool:
    """True when `mac` is `sign(key, label, data)` under any of the keys (current first)."""
    return any(hmac.compare_digest(mac, sign(key, label, data, length=length)) for key in keyring(secrets))


def verify_b64(secrets: str | Sequence[str], label: bytes, data: bytes, mac_text: str, *, length: int = 12) -> bool:
    """`verify` for a MAC written as `b64` text. Text that is not ASCII is no MAC of ours (and
    `hmac.compare_digest` raises on it: a forged OAuth state with an accented MAC was a 500)."""
    if not mac_text.isascii():
        return False
    return any(hmac.compare_digest(mac_text, b64(sign(key, label, data, length=length))) for key in keyring(secrets))


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
