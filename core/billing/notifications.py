"""Billing notifications: a `notifications` row in the transaction, the chat message after commit.

Why an outbox: the row commits with the state change it describes; the chat message is sent by the
caller only after that commit, so a rolled-back (and later retried) processing never tells a creator
about a payment twice or about one that did not stick.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import ChatIdentity
from core.notify.ports import ChatRef, Notifier, OutgoingMessage
from core.system.models import Notification

log = logging.getLogger(__name__)


@dataclass
class ChatSend:
    chat: ChatRef
    message: OutgoingMessage


TITLES = {
    "payment_succeeded": "Payment received",
    "payment_failed": "Payment failed",
    "subscription_renewed": "Plan renewed",
    "subscription_activated": "Plan active",
    "subscription_canceled": "Plan canceled",
    "subscription_expired": "Plan ended",
    "trial_ending": "Trial ending soon",
}


async def telegram_chat(*, session: AsyncSession, user_id: uuid.UUID) -> ChatRef | None:
    chat_id = await session.scalar(
        select(ChatIdentity.chat_id)
        .where(ChatIdentity.user_id == user_id, ChatIdentity.provider == "telegram",
               ChatIdentity.chat_id.is_not(None))
        .limit(1)
    )
    return ChatRef("telegram", chat_id) if chat_id else None


async def notify(
    *,
    session: AsyncSession,
    outbox: list[ChatSend],
    user_id: uuid.UUID,
    kind: str,
    text: str,
    document: Path | None = None,
    filename: str | None = None,
) -> Notification:
    """Record the notification and queue its chat message for after the commit."""
    row = Notification(user_id=user_id, type=kind, title=TITLES.get(kind, kind), message=text,
                       link_text="/upgrade" if kind in ("payment_failed", "trial_ending") else None)
    session.add(row)
    await session.flush()
    chat = await telegram_chat(session=session, user_id=user_id)
    if chat is not None:
        outbox.append(ChatSend(chat, OutgoingMessage(text=text, document=document, filename=filename)))
    return row


async def deliver(notifier: Notifier, outbox: list[ChatSend]) -> int:
    """Send queued messages; a chat that cannot be reached never undoes billing state."""
    sent = 0
    for item in outbox:
        try:
            await notifier.send(item.chat, item.message)
            sent += 1
        except Exception:
            log.exception("billing notification to %s failed", item.chat)
    return sent
