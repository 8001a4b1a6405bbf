"""Secrets on the Slack side: bot tokens encrypted at rest and signed invite codes (on `core.common.secrets`).

A key change keeps tokens and invite codes readable while the old key is in RECAST_SECRET_KEYS_OLD;
`recast rotate-keys` re-encrypts the tokens under the new key.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from core.common import secrets
from core.common.errors import RecastError

PREFIX = secrets.ENCRYPTED
# Every field of slack_sdk's Installation that grants access to a workspace.
TOKEN_FIELDS = ("bot_token", "user_token", "bot_refresh_token", "user_refresh_token")


class TokenUnreadable(RecastError):
    user_message = "Recast can't read this workspace's Slack token any more. Please reinstall the app."


class TokenCipher:
    """Slack tokens under their own key (`core.common.secrets.SecretBox`); the ciphertext is text."""

    def __init__(self, secret: str | Sequence[str]) -> None:
        self._box = secrets.SecretBox(secret, b"slack-token-encryption")

    def encrypt(self, value: str | None) -> str | None:
        return self._box.encrypt(value)

    def decrypt(self, value: str | None) -> str | None:
        try:
            return self._box.decrypt(value)
        except secrets.Undecryptable as exc:
            raise TokenUnreadable(detail="Slack token not decryptable: was RECAST_SECRET_KEY changed?") from exc

    def is_current(self, value: str | None) -> bool:
        return self._box.is_current(value)

    def reencrypt(self, value: str | None) -> str | None:
        try:
            return self._box.reencrypt(value)
        except secrets.Undecryptable as exc:
            raise TokenUnreadable(detail="Slack token not decryptable with any configured key") from exc

    def seal(self, data: dict[str, Any]) -> dict[str, Any]:
        """A copy of an installation dict with every token field encrypted."""
        return {k: (self.encrypt(v) if k in TOKEN_FIELDS and isinstance(v, str) else v) for k, v in data.items()}

    def open(self, data: dict[str, Any]) -> dict[str, Any]:
        return {k: (self.decrypt(v) if k in TOKEN_FIELDS and isinstance(v, str) else v) for k, v in data.items()}


INVITE_TTL_SECONDS = 7 * 24 * 3600
INVITE_PREFIX = "inv."


def invite_code(secret: str | Sequence[str], invite_id: uuid.UUID) -> str:
    """The code handed out for one `slack_invites` row: its id, signed (the row holds expiry and use)."""
    mac = secrets.sign(secrets.keyring(secret)[0], b"slack-invite", invite_id.bytes)
    return f"{INVITE_PREFIX}{secrets.b64(invite_id.bytes)}.{secrets.b64(mac)}"


def invite_of_code(secret: str | Sequence[str], code: str) -> uuid.UUID | None:
    """The invite a code names, or None when it is forged or garbled (expiry and use are in the row)."""
    text = code.strip()
    if not text.startswith(INVITE_PREFIX):
        return None
    try:
        body_text, mac_text = text.removeprefix(INVITE_PREFIX).split(".")
        body, mac = secrets.unb64(body_text), secrets.unb64(mac_text)
    except ValueError:
        return None
    if len(body) != 16:
        return None
    return uuid.UUID(bytes=body) if secrets.verify(secret, b"slack-invite", body, mac) else None
