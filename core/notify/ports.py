"""The notifier port: how core and tasks talk back to a person in chat without importing a bot SDK.

A `ChatRef` names a conversation (`telegram` chat id, or a Slack channel/user); buttons are
(label, action) pairs where action is an opaque callback string the adapter routes back to core.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class ChatRef:
    provider: str  # telegram | slack
    chat_id: str


@dataclass(frozen=True)
class Button:
    label: str
    action: str  # callback data (≤ 64 bytes for Telegram)


@dataclass
class OutgoingMessage:
    text: str
    buttons: list[list[Button]] = field(default_factory=list)
    video: Path | None = None
    photo: Path | None = None
    document: Path | None = None
    filename: str | None = None


class Notifier(Protocol):
    async def send(self, chat: ChatRef, message: OutgoingMessage) -> str:
        """Send a message; return the provider's message id."""
        ...

    async def edit_text(self, chat: ChatRef, message_id: str, text: str) -> None:
        """Replace a message's text in place (progress bars). Unchanged text is not an error."""
        ...


class RecordingNotifier:
    """A notifier that keeps messages in memory: the demo prints them, adapters can inspect them."""

    def __init__(self) -> None:
        self.sent: list[tuple[ChatRef, OutgoingMessage]] = []
        self.edits: list[tuple[ChatRef, str, str]] = []

    async def send(self, chat: ChatRef, message: OutgoingMessage) -> str:
        self.sent.append((chat, message))
        return str(len(self.sent))

    async def edit_text(self, chat: ChatRef, message_id: str, text: str) -> None:
        self.edits.append((chat, message_id, text))


class SendFailed(Exception):
    """A chat provider refused or could not take a message. `retry`: whether a later attempt may succeed
    (network error, provider 5xx, rate limit past its budget) or not (blocked by the user, bad request)."""

    def __init__(self, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry
