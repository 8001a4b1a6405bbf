"""Where an asset's progress and drafts go: the chat (and status message) it came from, stored at ingest."""

from __future__ import annotations

from core.content.models import ContentAsset
from core.notify.ports import ChatRef


def bind_to_chat(asset: ContentAsset, chat: ChatRef, status_message_id: str) -> None:
    """Send this asset's progress and drafts to `chat`, editing `status_message_id` (read by `chat_of`)."""
    asset.metadata_ = {
        **(asset.metadata_ or {}),
        "chat": {"provider": chat.provider, "chat_id": chat.chat_id, "status_message_id": status_message_id},
    }


def chat_of(asset: ContentAsset) -> tuple[ChatRef, str | None] | None:
    """Where this asset's progress and drafts go: stored at ingest by the adapter that received it."""
    meta = asset.metadata_ or {}
    chat = meta.get("chat")
    if not chat:
        return None
    return ChatRef(chat["provider"], str(chat["chat_id"])), chat.get("status_message_id")
