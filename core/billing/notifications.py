"""Billing notifications: a `notifications` row and an outbox message in the transaction, sent after commit.

Why the outbox: both commit with the state change they describe; the chat message is sent only after
that commit (and retried by workers if the chat is unreachable), so a rolled-back processing never
tells a creator about a payment that did not stick, and a committed one is never left untold.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import ChatIdentity
from core.notify import outbox as chat_outbox
from core.notify.ports import ChatRef, OutgoingMessage
from core.system.models import Notification
from core.work.runner import Outcome, run_now

if TYPE_CHECKING:
    from core.deps import CoreDeps

log = logging.getLogger(__name__)


@dataclass
class ChatSend:
    chat: ChatRef
    message: OutgoingMessage
    unit_id: uuid.UUID  # the outbox unit recorded in the same transaction


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
        .where(ChatIdentity.user_id == user_id, ChatIdentity.provider == "telegram", ChatIdentity.chat_id.is_not(None))
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
    row = Notification(
        user_id=user_id,
        type=kind,
        title=TITLES.get(kind, kind),
        message=text,
        link_text="/upgrade" if kind in ("payment_failed", "trial_ending") else None,
    )
    session.add(row)
    await session.flush()
    chat = await telegram_chat(session=session, user_id=user_id)
    if chat is not None:
        message = OutgoingMessage(text=text, document=document, filename=filename)
        unit_id = await chat_outbox.record(session, chat, message, key=f"notification:{row.id}")
        outbox.append(ChatSend(chat, message, unit_id))
    return row


async def deliver(deps: CoreDeps, outbox: list[ChatSend]) -> int:
    """Send the committed messages now; one that cannot be sent stays in the outbox for a worker to retry
    (a chat that cannot be reached never undoes billing state)."""
    sent = 0
    for item in outbox:
        if await run_now(deps, item.unit_id) == Outcome.SUCCEEDED:
            sent += 1
    return sent
