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
from core.integrations.slack_links import approval_threads, client_channel_chat
from core.notify import outbox
from core.notify.ports import Button, ChatRef, ConnectAction, OutgoingMessage
from core.workflow.recipients import creator_chats


async def owner_chats(session: AsyncSession, connection: PlatformConnection) -> list[ChatRef]:
    """Where a connection's owner hears about it (with a Reconnect button): a creator's own connection in their
    chats; a client account's in the client's Slack channel, where its team reconnects it for the client (a
    Telegram Reconnect button would connect the person's own account instead), else whoever connected it."""
    if connection.client_account_id is not None:
        channel = await client_channel_chat(session=session, client_account_id=connection.client_account_id)
        if channel is not None:
            return [channel]
    return await creator_chats(session=session, user_id=connection.user_id)


def caption_preview(caption: str | None, length: int = 60) -> str:
    """A post's first line, cut to `length` characters with an ellipsis: one line in a list of posts."""
    first = next((line.strip() for line in (caption or "").splitlines() if line.strip()), "")
    return first if len(first) <= length else first[: length - 1].rstrip() + "…"


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
    """Record the owner's message for this outcome (once per post and kind of news), and for a published or
    failed post of a draft approved in Slack the approval thread's; returns outbox units."""
    post = await session.get(ScheduledPost, outcome.post_id)
    if post is None:
        return []
    connection = (
        await session.get(PlatformConnection, post.platform_connection_id) if post.platform_connection_id else None
    )
    message = outcome_message(outcome, post, connection)
    if message is None:
        return []
    chats = await creator_chats(session=session, user_id=post.user_id)
    if outcome.result == Result.HELD and connection is not None and connection.status != "active":
        if connection.owner_told_at is not None:
            return []  # one message per broken connection, however many posts it holds
        connection.owner_told_at = utcnow()
        key = f"publish:connection:{connection.id}:{connection.owner_told_at.isoformat()}"
        chats = await owner_chats(session, connection)
    elif outcome.moved_to is not None:
        key = f"publish:{post.id}:moved:{outcome.moved_to.isoformat()}"
    else:
        key = f"publish:{post.id}:{outcome.result}"
    if outcome.result in (Result.PUBLISHED, Result.FAILED) and post.generated_content_id is not None:
        # A draft a team approved in Slack: its approval thread hears where it went (or why it didn't).
        chats += await approval_threads(session=session, draft_id=post.generated_content_id)
    return [await outbox.record(session, chat, message, key=f"{key}:{chat.chat_id}") for chat in chats]
