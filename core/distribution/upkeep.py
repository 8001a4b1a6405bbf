"""Keeping connections working: tokens refreshed ahead of expiry, and owners told early when they can't be.

Run by the scheduler (`distribution.refresh_tokens`). A connection whose access token expires within
`REFRESH_AHEAD` is refreshed; a refused refresh marks it `refresh_failed` and holds its posts (one message
with a Reconnect button). A connection that cannot be refreshed at all (no refresh token) and whose token
expires before one of its scheduled posts is due gets one warning, days ahead, so the owner reconnects in
time instead of finding a held post.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.common.clock import utcnow
from core.config import Settings
from core.distribution import connections
from core.distribution.clients import configured_clients
from core.distribution.errors import PlatformError, TokenRevoked
from core.distribution.models import ConnectionStatus, PlatformConnection, PostStatus, ScheduledPost
from core.distribution.notices import local_time, owner_chats
from core.distribution.platforms.names import Platform, label
from core.notify import outbox
from core.notify.ports import Button, ConnectAction, OutgoingMessage
from core.work import submit as work

log = logging.getLogger(__name__)

REFRESH_AHEAD = timedelta(days=7)


async def refresh_due(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> tuple[int, list[uuid.UUID]]:
    """Refresh what expires soon, one connection per transaction; returns (refreshed, outbox units)."""
    clients = configured_clients(settings)
    horizon = utcnow() + REFRESH_AHEAD
    async with sessionmaker() as session:
        due = (
            await session.scalars(
                select(PlatformConnection.id).where(
                    PlatformConnection.status == ConnectionStatus.ACTIVE,
                    PlatformConnection.refresh_token.is_not(None),
                    PlatformConnection.token_expires_at < horizon,
                )
            )
        ).all()
    refreshed, messages = 0, []
    for connection_id in due:
        async with sessionmaker() as session:
            connection = await session.get(PlatformConnection, connection_id, with_for_update=True)
            if connection is None or connection.status != ConnectionStatus.ACTIVE:
                continue
            client = clients.get(Platform(connection.platform))
            token = connections.refresh_token(settings, connection)
            if client is None or not token:
                continue
            try:
                await connections.store_refreshed(session, settings, connection, await client.refresh(token))
                refreshed += 1
            except TokenRevoked as exc:
                messages += await _broken(session, connection, exc.user_message)
            except PlatformError as exc:  # a blip: the next run tries again, well before expiry
                log.warning("refreshing %s connection %s failed: %s", connection.platform, connection.id, exc)
            await session.commit()
    return refreshed, messages


async def _broken(session: AsyncSession, connection: PlatformConnection, reason: str) -> list[uuid.UUID]:
    held = await connections.mark_broken(session, connection, ConnectionStatus.REFRESH_FAILED, reason)
    connection.owner_told_at = utcnow()
    name = label(connection.platform)
    account = f" ({connection.platform_username})" if connection.platform_username else ""
    text = f"{name} refused to renew Recast's access to your account{account}. Reconnect it to keep publishing."
    if held:
        text += f" {len(held)} scheduled post(s) are on hold until then, not lost."
    message = OutgoingMessage(text=text, buttons=[[Button(f"Reconnect {name}", ConnectAction(connection.platform))]])
    key = f"refresh-failed:{connection.id}:{connection.owner_told_at.isoformat()}"
    return [
        await outbox.record(session, chat, message, key=f"{key}:{chat.chat_id}")
        for chat in await owner_chats(session, connection)
    ]


async def warn_expiring(session: AsyncSession) -> list[uuid.UUID]:
    """One warning per token that (without a refresh token) runs out before a scheduled post on it."""
    first_due = (
        select(ScheduledPost.platform_connection_id, func.min(ScheduledPost.scheduled_for).label("due"))
        .where(ScheduledPost.status == PostStatus.SCHEDULED)
        .group_by(ScheduledPost.platform_connection_id)
        .subquery()
    )
    rows = (
        await session.execute(
            select(PlatformConnection, first_due.c.due)
            .join(first_due, first_due.c.platform_connection_id == PlatformConnection.id)
            .where(
                PlatformConnection.status == ConnectionStatus.ACTIVE,
                PlatformConnection.refresh_token.is_(None),
                PlatformConnection.token_expires_at < first_due.c.due,
            )
        )
    ).all()
    units: list[uuid.UUID] = []
    for connection, due in rows:
        assert connection.token_expires_at is not None
        name = label(connection.platform)
        expires = local_time(connection.token_expires_at, None)
        text = (
            f"Recast's access to your {name} account runs out on {expires}, before a post scheduled for "
            f"{local_time(due, None)}. Reconnect it before then and the post goes out on time."
        )
        message = OutgoingMessage(
            text=text, buttons=[[Button(f"Reconnect {name}", ConnectAction(connection.platform))]]
        )
        for chat in await owner_chats(session, connection):
            # One warning per token: the key names the expiry, so hourly runs add nothing new.
            key = f"expiring:{connection.id}:{connection.token_expires_at.isoformat()}:{chat.chat_id}"
            payload = {"chat": outbox.chat_to_json(chat), "message": outbox.message_to_json(message)}
            unit, created = await work.add(session, outbox.SEND, payload, key=key)
            if created:
                units.append(unit)
    return units
