"""Platform connections: who may publish where, with OAuth tokens encrypted at rest.

A connection belongs to a creator (`user_id`) or, for agencies, to a client account (`client_account_id`,
with the organization). Tokens are stored only as `SecretBox` ciphertexts under their own purpose key, the
same scheme as the Slack tokens (`core.common.secrets`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import service as accounts
from core.common.clock import utcnow
from core.common.secrets import SecretBox
from core.config import Settings
from core.db.tenancy import act_from_here
from core.distribution.errors import NotConnected
from core.distribution.models import ConnectionStatus, PlatformConnection, PostStatus, ScheduledPost
from core.distribution.ports import Account, Credentials, TokenSet

TOKEN_PURPOSE = b"recast platform tokens v1"


def token_box(settings: Settings) -> SecretBox:
    return SecretBox(settings.secret_keys(), TOKEN_PURPOSE)


@dataclass(frozen=True)
class Owner:
    """Whose account a connection is: a creator's own, or an agency client account's."""

    user_id: uuid.UUID
    client_account_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = None


async def save_connection(
    session: AsyncSession, settings: Settings, *, platform: str, owner: Owner, account: Account, tokens: TokenSet
) -> PlatformConnection:
    """Insert the connection, or refresh the tokens of the same account already connected by this owner
    (reconnecting after a revoke makes it active again)."""
    box = token_box(settings)
    user_id = owner.user_id
    if owner.client_account_id is not None:
        # A client's account is one connection whoever on the team (re)connects it: reconnecting it must update
        # the row its held posts wait on, not add a second one beside it.
        user_id = (
            await session.scalar(
                select(PlatformConnection.user_id)
                .where(
                    PlatformConnection.platform == platform,
                    PlatformConnection.platform_user_id == account.platform_user_id,
                    PlatformConnection.client_account_id == owner.client_account_id,
                )
                .order_by(PlatformConnection.created_at)
                .limit(1)
            )
            or owner.user_id
        )
    values = {
        "platform": platform,
        "platform_user_id": account.platform_user_id,
        "platform_username": account.username,
        "account_kind": account.kind,
        "user_id": user_id,
        "client_account_id": owner.client_account_id,
        "organization_id": owner.organization_id,
        "access_token": box.encrypt(tokens.access_token),
        "refresh_token": box.encrypt(tokens.refresh_token),
        "token_expires_at": tokens.expires_at,
        "scopes": list(tokens.scopes),
        "is_active": True,
        "status": ConnectionStatus.ACTIVE,
        "status_reason": None,
        "owner_told_at": None,
    }
    refreshed = {k: v for k, v in values.items() if k not in ("platform", "platform_user_id", "user_id")}
    stmt = (
        pg_insert(PlatformConnection)
        .values(**values)
        .on_conflict_do_update(
            index_elements=["platform", "platform_user_id", "user_id", "client_account_id"], set_=refreshed
        )
        .returning(PlatformConnection.id)
    )
    connection_id = await session.scalar(stmt)
    connection = await session.get(PlatformConnection, connection_id, populate_existing=True)
    assert connection is not None
    return connection


def credentials(settings: Settings, connection: PlatformConnection) -> Credentials:
    token = token_box(settings).decrypt(connection.access_token)
    if not token or connection.status != ConnectionStatus.ACTIVE or not connection.platform_user_id:
        raise NotConnected()
    return Credentials(token, connection.platform_user_id, connection.account_kind or "member")


def refresh_token(settings: Settings, connection: PlatformConnection) -> str | None:
    return token_box(settings).decrypt(connection.refresh_token)


async def store_refreshed(
    session: AsyncSession, settings: Settings, connection: PlatformConnection, tokens: TokenSet
) -> None:
    box = token_box(settings)
    connection.access_token = box.encrypt(tokens.access_token) or ""
    if tokens.refresh_token:
        connection.refresh_token = box.encrypt(tokens.refresh_token)
    connection.token_expires_at = tokens.expires_at
    if tokens.scopes:
        connection.scopes = list(tokens.scopes)


async def connections_of(session: AsyncSession, owner: Owner) -> list[PlatformConnection]:
    """The owner's connections that are not disconnected, newest first."""
    stmt = select(PlatformConnection).where(PlatformConnection.status != ConnectionStatus.DISCONNECTED)
    if owner.client_account_id is not None:
        stmt = stmt.where(PlatformConnection.client_account_id == owner.client_account_id)
    else:
        stmt = stmt.where(PlatformConnection.user_id == owner.user_id, PlatformConnection.client_account_id.is_(None))
    return list((await session.scalars(stmt.order_by(PlatformConnection.created_at.desc()))).all())


async def connection_of(session: AsyncSession, owner: Owner, connection_id: uuid.UUID) -> PlatformConnection:
    """One of the owner's connections; `NotConnected` for anyone else's (no hint that it exists)."""
    for connection in await connections_of(session, owner):
        if connection.id == connection_id:
            return connection
    raise NotConnected()


async def mark_broken(
    session: AsyncSession, connection: PlatformConnection, status: ConnectionStatus, reason: str
) -> list[ScheduledPost]:
    """The connection can't publish until its owner reconnects: mark it, and hold (not fail) every post
    scheduled on it. Returns the posts that were held."""
    connection.status = status
    connection.status_reason = reason
    connection.is_active = False
    result = await session.scalars(
        update(ScheduledPost)
        .where(
            ScheduledPost.platform_connection_id == connection.id,
            ScheduledPost.status.in_([PostStatus.SCHEDULED, PostStatus.PUBLISHING]),
        )
        .values(status=PostStatus.HELD, error_message=reason)
        .returning(ScheduledPost)
    )
    return list(result.all())


async def disconnect(session: AsyncSession, connection: PlatformConnection) -> int:
    """Delete the tokens and cancel what was scheduled on the account; returns how many posts were cancelled."""
    connection.access_token = ""
    connection.refresh_token = None
    connection.status = ConnectionStatus.DISCONNECTED
    connection.status_reason = "disconnected by its owner"
    connection.is_active = False
    result = await session.execute(
        update(ScheduledPost)
        .where(
            ScheduledPost.platform_connection_id == connection.id,
            ScheduledPost.status.in_([PostStatus.SCHEDULED, PostStatus.HELD]),
        )
        .values(status=PostStatus.CANCELLED, error_message="the account was disconnected")
    )
    return int(getattr(result, "rowcount", 0) or 0)


def expires_within(connection: PlatformConnection, seconds: float, now: datetime | None = None) -> bool:
    if connection.token_expires_at is None:
        return False
    return (connection.token_expires_at - (now or utcnow())).total_seconds() < seconds


async def act_for_owner(session: AsyncSession, connection: PlatformConnection) -> None:
    """Row-level security for work a platform starts (its webhooks): once the connection is found (as the
    owner), the rest of the transaction acts for the organization the connection belongs to."""
    organization_id = connection.organization_id
    if organization_id is None and connection.user_id is not None:
        organization_id = await accounts.personal_organization_id(session=session, user_id=connection.user_id)
    if organization_id is not None:
        await act_from_here(session, organization_id)
