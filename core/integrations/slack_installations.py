"""Slack app installations (OAuth mode): each workspace's bot token, stored encrypted, found and removed."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.integrations import slack_links
from core.integrations.slack_models import (
    SlackInstallation,
)
from core.integrations.slack_secrets import TokenCipher
from core.system import audit


async def save_installation(
    *,
    session: AsyncSession,
    data: dict[str, Any],
    client_id: str | None,
    cipher: TokenCipher,
    organization_id: uuid.UUID | None = None,
) -> SlackInstallation:
    """Store an OAuth installation with every token encrypted; an install made from an organization's
    install link also links the workspace to that organization."""
    sealed = cipher.seal(data)
    row = SlackInstallation(
        client_id=client_id,
        app_id=data.get("app_id"),
        enterprise_id=data.get("enterprise_id"),
        team_id=data.get("team_id"),
        user_id=data.get("user_id"),
        is_enterprise_install=bool(data.get("is_enterprise_install")),
        bot_token=sealed.get("bot_token"),
        bot_user_id=data.get("bot_user_id"),
        organization_id=organization_id,
        data=sealed,
    )
    session.add(row)
    await session.flush()
    team_id = data.get("team_id")
    if organization_id is not None and team_id:
        current = await slack_links.workspace(session=session, team_id=team_id)
        if current is not None and current.organization_id != organization_id:
            await slack_links.forget_other_org_channels(session, team_id, organization_id)
        await slack_links.link_workspace(
            session=session,
            team_id=team_id,
            organization_id=organization_id,
            default_channel_id=data.get("incoming_webhook_channel_id"),
        )
        await audit.record(
            session=session,
            action="slack_workspace_linked",
            organization_id=organization_id,
            resource_type="slack_workspace",
            metadata={"team_id": team_id, "via": "oauth"},
        )
    return row


def installation_data(row: SlackInstallation, cipher: TokenCipher) -> dict[str, Any]:
    """The installation as slack_sdk stored it, tokens decrypted."""
    return cipher.open(dict(row.data))


async def bot_token_for(
    *, session: AsyncSession, client_id: str | None, team_id: str, cipher: TokenCipher
) -> str | None:
    """The latest installation's bot token for a workspace (decrypted), or None."""
    row = await find_installation(session=session, client_id=client_id, enterprise_id=None, team_id=team_id)
    return cipher.decrypt(row.bot_token) if row is not None else None


async def find_installation(
    *,
    session: AsyncSession,
    client_id: str | None,
    enterprise_id: str | None,
    team_id: str | None,
    user_id: str | None = None,
    is_enterprise_install: bool | None = False,
) -> SlackInstallation | None:
    stmt = select(SlackInstallation).where(
        SlackInstallation.client_id == client_id, SlackInstallation.enterprise_id.is_not_distinct_from(enterprise_id)
    )
    if not is_enterprise_install:
        stmt = stmt.where(SlackInstallation.team_id.is_not_distinct_from(team_id))
    if user_id is not None:
        stmt = stmt.where(SlackInstallation.user_id == user_id)
    return await session.scalar(
        stmt.order_by(SlackInstallation.installed_at.desc(), SlackInstallation.id.desc()).limit(1)
    )


async def delete_installations(
    *,
    session: AsyncSession,
    client_id: str | None,
    enterprise_id: str | None,
    team_id: str | None,
    user_id: str | None = None,
) -> None:
    rows = await session.scalars(
        select(SlackInstallation).where(
            SlackInstallation.client_id == client_id,
            SlackInstallation.enterprise_id.is_not_distinct_from(enterprise_id),
            SlackInstallation.team_id.is_not_distinct_from(team_id),
        )
    )
    for row in rows:
        if user_id is None or row.user_id == user_id:
            await session.delete(row)
    await session.flush()
