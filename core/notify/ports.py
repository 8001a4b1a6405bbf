"""The notifier port: how core and tasks talk back to a person in chat without importing a bot SDK.

A `ChatRef` names a conversation (`telegram` chat id, or a Slack channel/user); buttons are
(label, action) pairs where action is a typed request (`DraftAction`) that each adapter encodes in its
own way (Telegram's callback data: `bots/telegram/callbacks.py`) and decodes when it is pressed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from core.notify.progress import Progress


@dataclass(frozen=True)
class ChatRef:
    provider: str  # telegram | slack
    chat_id: str


class DraftActionKind(StrEnum):
    APPROVE = "approve"
    REVISE = "revise"
    REGENERATE = "regenerate"
    COPY = "copy"
    WHY = "why"  # the reasons behind the draft's quality score


@dataclass(frozen=True)
class DraftAction:
    kind: DraftActionKind
    draft_id: uuid.UUID


@dataclass(frozen=True)
class ConnectAction:
    """Start connecting (or reconnecting) an account on `platform`."""

    platform: str


ButtonAction = DraftAction | ConnectAction  # what a button can ask for


@dataclass(frozen=True)
class Button:
    label: str
    action: ButtonAction


@dataclass
class OutgoingMessage:
    text: str
    buttons: list[list[Button]] = field(default_factory=list)
    video: Path | None = None
    photo: Path | None = None
    document: Path | None = None
    filename: str | None = None  # the document's name; also the name of a file an adapter makes from a long text
    thumbnail: Path | None = None  # a JPEG preview of `video`, if one was rendered


class SendFailed(Exception):
    """A notifier could not deliver a message (the provider's error is the ``__cause__``).

    `retry` tells the caller whether sending the same message again later can succeed: True for
    transient failures (network errors, timeouts, the provider's 5xx, rate limits still in force after
    the notifier's own waiting), False for permanent ones (a request the provider rejects as malformed,
    a bot blocked by the user, a chat that does not exist). `retry_after` is the provider's hint, in
    seconds, of the earliest useful retry, when it gave one.
    """

    def __init__(self, message: str, *, retry: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry = retry
        self.retry_after = retry_after


class Notifier(Protocol):
    async def send(self, chat: ChatRef, message: OutgoingMessage) -> str:
        """Send a message whole (in several parts if the provider needs it); return the id of the
        message carrying the buttons (the last part). Raises `SendFailed`."""
        ...

    async def edit_text(self, chat: ChatRef, message_id: str, text: str) -> None:
        """Replace a message's text in place. Unchanged text is not an error."""
        ...

    async def show_progress(self, chat: ChatRef, message_id: str, progress: Progress) -> None:
        """Show `progress` in the status message `message_id`, worded for the platform (cosmetic: unchanged
        text is not an error)."""
        ...


class RecordingNotifier:
    """A notifier that keeps messages in memory: the demo prints them, adapters can inspect them."""

    def __init__(self) -> None:
        self.sent: list[tuple[ChatRef, OutgoingMessage]] = []
        self.edits: list[tuple[ChatRef, str, str]] = []
        self.progress: list[tuple[ChatRef, str, Progress]] = []

    async def send(self, chat: ChatRef, message: OutgoingMessage) -> str:
        self.sent.append((chat, message))
        return str(len(self.sent))

    async def edit_text(self, chat: ChatRef, message_id: str, text: str) -> None:
        self.edits.append((chat, message_id, text))

    async def show_progress(self, chat: ChatRef, message_id: str, progress: Progress) -> None:
        self.progress.append((chat, message_id, progress))
