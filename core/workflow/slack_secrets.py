"""Secrets on the Slack side: bot tokens encrypted at rest and signed invite codes.

Both use keys derived from RECAST_SECRET_KEY with HKDF-SHA256 under different `info` labels, so a key for
one purpose can't be replayed for the other. Changing RECAST_SECRET_KEY makes stored tokens unreadable:
workspaces then reinstall the app (the OAuth flow stores a fresh token).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.common.errors import RecastError

PREFIX = "fernet:v1:"
# Every field of slack_sdk's Installation that grants access to a workspace.
TOKEN_FIELDS = ("bot_token", "user_token", "bot_refresh_token", "user_refresh_token")


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


INVITE_TTL_SECONDS = 7 * 24 * 3600
INVITE_PREFIX = "inv."


def invite_code(secret: str, invite_id: uuid.UUID) -> str:
    """The code handed out for one `slack_invites` row: its id, signed (the row holds expiry and use)."""
    mac = hmac.new(_derive(secret, b"slack-invite"), invite_id.bytes, hashlib.sha256).digest()[:12]
    return f"{INVITE_PREFIX}{_b64(invite_id.bytes)}.{_b64(mac)}"


def invite_of_code(secret: str, code: str) -> uuid.UUID | None:
    """The invite a code names, or None when it is forged or garbled (expiry and use are in the row)."""
    text = code.strip()
    if not text.startswith(INVITE_PREFIX):
        return None
    try:
        body_text, mac_text = text.removeprefix(INVITE_PREFIX).split(".")
        body, mac = _unb64(body_text), _unb64(mac_text)
    except ValueError:
        return None
    if len(body) != 16:
        return None
    expected = hmac.new(_derive(secret, b"slack-invite"), body, hashlib.sha256).digest()[:12]
    return uuid.UUID(bytes=body) if hmac.compare_digest(mac, expected) else None
