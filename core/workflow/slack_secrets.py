"""Secrets on the Slack side: bot tokens encrypted at rest and signed organization install codes.

Both use keys derived from RECAST_SECRET_KEY with HKDF-SHA256 under different `info` labels, so a key for
one purpose can't be replayed for the other. Changing RECAST_SECRET_KEY makes stored tokens unreadable:
workspaces then reinstall the app (the OAuth flow stores a fresh token).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time
import uuid
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.common.errors import RecastError

PREFIX = "fernet:v1:"
# Every field of slack_sdk's Installation that grants access to a workspace.
TOKEN_FIELDS = ("bot_token", "user_token", "bot_refresh_token", "user_refresh_token")
INSTALL_CODE_TTL_SECONDS = 7 * 24 * 3600


class TokenUnreadable(RecastError):
    user_message = "Recast can't read this workspace's Slack token any more. Please reinstall the app."


def _derive(secret: str, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"recast", info=label).derive(secret.encode())


class TokenCipher:
    """Fernet (AES-CBC + HMAC-SHA256, authenticated) for Slack tokens; the ciphertext is text."""

    def __init__(self, secret: str) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(secret, b"slack-token-encryption")))

    def encrypt(self, value: str | None) -> str | None:
        if value is None or value.startswith(PREFIX):
            return value
        return PREFIX + self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, value: str | None) -> str | None:
        # Values without the prefix were stored before encryption existed; they are re-encrypted when
        # the workspace next installs.
        if value is None or not value.startswith(PREFIX):
            return value
        try:
            return self._fernet.decrypt(value.removeprefix(PREFIX).encode()).decode()
        except InvalidToken as exc:
            raise TokenUnreadable(detail="Slack token not decryptable: was RECAST_SECRET_KEY changed?") from exc

    def seal(self, data: dict[str, Any]) -> dict[str, Any]:
        """A copy of an installation dict with every token field encrypted."""
        return {k: (self.encrypt(v) if k in TOKEN_FIELDS and isinstance(v, str) else v) for k, v in data.items()}

    def open(self, data: dict[str, Any]) -> dict[str, Any]:
        return {k: (self.decrypt(v) if k in TOKEN_FIELDS and isinstance(v, str) else v) for k, v in data.items()}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def install_code(secret: str, organization_id: uuid.UUID, *, now: float | None = None,
                 ttl_seconds: int = INSTALL_CODE_TTL_SECONDS) -> str:
    """A code naming an organization, for the OAuth install link or `/recast link`: whoever holds it was
    given it by one of the organization's owners or admins. Expires after `ttl_seconds`."""
    expires = int((now if now is not None else time.time()) + ttl_seconds)
    body = organization_id.bytes + struct.pack(">I", expires)
    mac = hmac.new(_derive(secret, b"slack-install-code"), body, hashlib.sha256).digest()[:12]
    return f"{_b64(body)}.{_b64(mac)}"


def organization_of_code(secret: str, code: str, *, now: float | None = None) -> uuid.UUID | None:
    """The organization an install code names, or None when it is forged, garbled or expired."""
    try:
        body_text, mac_text = code.strip().split(".")
        body, mac = _unb64(body_text), _unb64(mac_text)
    except ValueError:
        return None
    if len(body) != 20:
        return None
    expected = hmac.new(_derive(secret, b"slack-install-code"), body, hashlib.sha256).digest()[:12]
    if not hmac.compare_digest(mac, expected):
        return None
    (expires,) = struct.unpack(">I", body[16:])
    if expires < (now if now is not None else time.time()):
        return None
    return uuid.UUID(bytes=body[:16])
