"""What a post's owner hears about it, recorded in the outbox in the same transaction as the outcome."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from core.common.clock import utcnow
from core.distribution.models import PlatformConnection, ScheduledPost
from core.distribution.platforms.names import label
from core.distribution.publishing import PublishOutcome, Result
from core.notify import outbox
from core.notify.ports import Button, ConnectAction, OutgoingMessage
from core.workflow.recipients import creator_chats


def local_time(when: datetime, timezone: str | None) -> str:
    zone = ZoneInfo(timezone or "Asia/Kolkata")
    return when.astimezone(zone).strftime("%a %d %b, %H:%M ") + (timezone or "Asia/Kolkata")


def outcome_message(
    outcome: PublishOutcome, post: ScheduledPost, connection: PlatformConnection | None
) -> OutgoingMessage | None:
    where = label(outcome.platform)
    account = f" ({connection.platform_username})" if connection and connection.platform_username else ""
    if outcome.result == Result.PUBLISHED:
        return OutgoingMessage(text=f"Published on {where}{account}: {outcome.url or 'done'}")
    if outcome.result == Result.FAILED:
        return OutgoingMessage(text=f"Your {where} post couldn't be published. {outcome.reason}")
    if outcome.result == Result.HELD:
        return _held_message(outcome, connection, where, account)
    if outcome.result == Result.MOVED and outcome.moved_to is not None:
        at = local_time(outcome.moved_to, post.timezone)
        return OutgoingMessage(text=f"{outcome.reason} Your {where} post{account} now goes out at {at}.")
    if outcome.result == Result.RETRY and outcome.reason and outcome.retry_in_s is not None:
        at = local_time(utcnow() + timedelta(seconds=outcome.retry_in_s), post.timezone)
        return OutgoingMessage(text=f"{outcome.reason} Your {where} post will be tried again at {at}.")
    return None


def _held_message(
    outcome: PublishOutcome, connection: PlatformConnection | None, where: str, account: str
) -> OutgoingMessage:
    if connection is not None and connection.status != "active":
        held = f"{outcome.held_posts} scheduled post(s) are" if outcome.held_posts > 1 else "Your scheduled post is"
        return OutgoingMessage(
            text=(
                f"{where} no longer accepts Recast's access to your account{account}. {held} on hold, not lost: "
                f"reconnect the account and they go out."
            ),
            buttons=[[Button(f"Reconnect {where}", ConnectAction(outcome.platform))]],
        )
    return OutgoingMessage(text=f"Your {where} post is on hold: {outcome.reason}")


async def record_outcome(session: AsyncSession, outcome: PublishOutcome) -> list[uuid.UUID]:
    """Record the owner's message for this outcome (once per post and kind of news); returns outbox units."""
    post = await session.get(ScheduledPost, outcome.post_id)
    if post is None:
        return []
    connection = (
        await session.get(PlatformConnection, post.platform_connection_id) if post.platform_connection_id else None
    )
    message = outcome_message(outcome, post, connection)
    if message is None:
        return []
    if outcome.result == Result.HELD and connection is not None and connection.status != "active":
        if connection.owner_told_at is not None:
            return []  # one message per broken connection, however many posts it holds
        connection.owner_told_at = utcnow()
        key = f"publish:connection:{connection.id}:{connection.owner_told_at.isoformat()}"
    elif outcome.moved_to is not None:
        key = f"publish:{post.id}:moved:{outcome.moved_to.isoformat()}"
    else:
        key = f"publish:{post.id}:{outcome.result}"
    return [
        await outbox.record(session, chat, message, key=f"{key}:{chat.chat_id}")
        for chat in await creator_chats(session=session, user_id=post.user_id)
    ]
