"""Telegram callback data for buttons: `d:<action>:<draft uuid hex>` (36 bytes, inside Telegram's 64-byte
limit; buttons already in chats carry this format, so it stays as it is) and `connect:<platform>`."""

from __future__ import annotations

import uuid

from core.notify.ports import ButtonAction, ConnectAction, DraftAction, DraftActionKind

CALLBACK_LIMIT = 64  # bytes of callback data Telegram accepts
DRAFT_PREFIX = "d:"
_CODES = {
    DraftActionKind.APPROVE: "a",
    DraftActionKind.REVISE: "r",
    DraftActionKind.REGENERATE: "g",
    DraftActionKind.COPY: "c",
    DraftActionKind.WHY: "w",
}
_KINDS = {code: kind for kind, code in _CODES.items()}


CONNECT_PREFIX = "connect:"


def encode(action: ButtonAction) -> str:
    if isinstance(action, ConnectAction):
        data = f"{CONNECT_PREFIX}{action.platform}"
    else:
        data = f"{DRAFT_PREFIX}{_CODES[action.kind]}:{action.draft_id.hex}"
    assert len(data.encode()) <= CALLBACK_LIMIT
    return data


def parse_draft_action(data: str) -> DraftAction | None:
    """The draft action a pressed button asks for, or None for data that is not (or no longer) one."""
    parts = data.split(":")
    if len(parts) != 3 or f"{parts[0]}:" != DRAFT_PREFIX or parts[1] not in _KINDS:
        return None
    try:
        return DraftAction(_KINDS[parts[1]], uuid.UUID(hex=parts[2]))
    except ValueError:
        return None
