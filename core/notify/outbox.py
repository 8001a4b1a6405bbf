"""The outbox: chat messages that must arrive once, recorded with the state change that causes them.

`record` adds an `outbox.send` work unit in the caller's transaction; after the commit, `flush` sends
it right away in this process (the fast path, keeping a chat's messages in order). If the send fails
for a transient reason, or this process dies before it, the unit is retried by any worker with backoff
— a failed commit never means a message sent, and a crash never means a message lost.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.notify.ports import (
    Button,
    ButtonAction,
    ChatRef,
    ConnectAction,
    DraftAction,
    DraftActionKind,
    OutgoingMessage,
)
from core.work import submit
from core.work.registry import unit_handler
from core.work.runner import run_now

if TYPE_CHECKING:
    from core.deps import CoreDeps

SEND = "outbox.send"
_PATHS = ("video", "photo", "document", "thumbnail")


def message_to_json(message: OutgoingMessage) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for f in dataclasses.fields(message):
        value = getattr(message, f.name)
        if f.name == "buttons":
            data["buttons"] = [[[b.label, _action_to_json(b.action)] for b in row] for row in value]
        elif isinstance(value, Path):
            data[f.name] = str(value)
        else:
            data[f.name] = value
    return data


def message_from_json(data: dict[str, Any]) -> OutgoingMessage:
    known = {f.name for f in dataclasses.fields(OutgoingMessage)}
    kwargs: dict[str, Any] = {k: v for k, v in data.items() if k in known}
    kwargs["buttons"] = [
        [Button(label, _action_from_json(action)) for label, action in row] for row in data.get("buttons", [])
    ]
    for name in _PATHS:
        if kwargs.get(name) is not None:
            kwargs[name] = Path(kwargs[name])
    return OutgoingMessage(**kwargs)


def _action_to_json(action: ButtonAction) -> dict[str, str]:
    if isinstance(action, ConnectAction):
        return {"connect": action.platform}
    return {"draft_action": action.kind.value, "draft_id": action.draft_id.hex}


# Units recorded before buttons carried typed actions hold the callback string the button was sent with
# ("d:<a|r|g|c>:<draft hex>", the only buttons there were); read them as the actions they encoded.
_LEGACY_KINDS = {
    "a": DraftActionKind.APPROVE,
    "r": DraftActionKind.REVISE,
    "g": DraftActionKind.REGENERATE,
    "c": DraftActionKind.COPY,
}


def _action_from_json(data: dict[str, str] | str) -> ButtonAction:
    if isinstance(data, str):
        _, code, draft_hex = data.split(":")
        return DraftAction(_LEGACY_KINDS[code], uuid.UUID(hex=draft_hex))
    if "connect" in data:
        return ConnectAction(data["connect"])
    return DraftAction(DraftActionKind(data["draft_action"]), uuid.UUID(hex=data["draft_id"]))


def chat_to_json(chat: ChatRef) -> dict[str, str]:
    return {"provider": chat.provider, "chat_id": chat.chat_id}


async def record(
    session: AsyncSession, chat: ChatRef, message: OutgoingMessage, *, key: str | None = None
) -> uuid.UUID:
    """Add the message to the outbox in the caller's transaction; `flush` it after the commit."""
    unit_id, _ = await submit.add(
        session, SEND, {"chat": chat_to_json(chat), "message": message_to_json(message)}, key=key
    )
    return unit_id


async def flush(deps: CoreDeps, unit_ids: Sequence[uuid.UUID]) -> None:
    """Send recorded messages now, in order. What fails stays in the outbox for a worker to retry."""
    for unit_id in unit_ids:
        await run_now(deps, unit_id)


async def tell(deps: CoreDeps, chat: ChatRef, message: OutgoingMessage, *, key: str | None = None) -> None:
    """Record and send one message on its own (no other state changes with it)."""
    async with deps.sessionmaker() as session:
        unit_id = await record(session, chat, message, key=key)
        await session.commit()
    await flush(deps, [unit_id])


@unit_handler(SEND, max_attempts=8)
async def send(deps: CoreDeps, chat: dict[str, str], message: dict[str, Any]) -> dict[str, str]:
    message_id = await deps.notifier.send(ChatRef(chat["provider"], chat["chat_id"]), message_from_json(message))
    return {"message_id": message_id}
