"""Who and where in Slack: workspace ↔ organization, client account ↔ channel, Slack user ↔ Recast user,
the message showing each approval request, and Events API deliveries already accepted."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import ChatIdentity
from core.repurposing.models import GeneratedContent
from core.workflow import service as workflow_service
from core.workflow.models import ApprovalRequest
from core.workflow.slack_models import (
    SlackApprovalMessage,
    SlackChannel,
    SlackEventReceipt,
    SlackInstallation,
    SlackWorkspace,
)


async def link_workspace(
    *, session: AsyncSession, team_id: str, organization_id: uuid.UUID, default_channel_id: str | None = None
) -> SlackWorkspace:
    workspace = await session.get(SlackWorkspace, team_id)
    if workspace is None:
        workspace = SlackWorkspace(team_id=team_id, organization_id=organization_id)
        session.add(workspace)
    workspace.organization_id = organization_id
    workspace.default_channel_id = default_channel_id or workspace.default_channel_id
    await session.flush()
    return workspace


async def link_channel(
    *, session: AsyncSession, team_id: str, channel_id: str, client_account_id: uuid.UUID
) -> SlackChannel:
    row = await session.scalar(select(SlackChannel).where(SlackChannel.client_account_id == client_account_id))
    if row is None:
        row = SlackChannel(team_id=team_id, channel_id=channel_id, client_account_id=client_account_id)
        session.add(row)
    row.team_id, row.channel_id = team_id, channel_id
    await session.flush()
    return row


async def link_user(
    *, session: AsyncSession, user_id: uuid.UUID, slack_user_id: str, team_id: str, username: str | None = None
) -> ChatIdentity:
    identity = await session.scalar(
        select(ChatIdentity).where(ChatIdentity.provider == "slack", ChatIdentity.external_user_id == slack_user_id)
    )
    if identity is None:
        identity = ChatIdentity(provider="slack", external_user_id=slack_user_id, user_id=user_id)
        session.add(identity)
    identity.user_id, identity.team_id, identity.chat_id = user_id, team_id, team_id
    identity.username = username or identity.username
    await session.flush()
    return identity


async def recast_user(*, session: AsyncSession, slack_user_id: str) -> uuid.UUID | None:
    return await session.scalar(
        select(ChatIdentity.user_id).where(ChatIdentity.provider == "slack",
                                           ChatIdentity.external_user_id == slack_user_id)
    )


async def slack_user_of(*, session: AsyncSession, user_id: uuid.UUID) -> str | None:
    return await session.scalar(
        select(ChatIdentity.external_user_id).where(ChatIdentity.provider == "slack", ChatIdentity.user_id == user_id)
        .limit(1)
    )


async def workspace(*, session: AsyncSession, team_id: str) -> SlackWorkspace | None:
    return await session.get(SlackWorkspace, team_id)


async def client_for_channel(*, session: AsyncSession, team_id: str, channel_id: str) -> uuid.UUID | None:
    return await session.scalar(
        select(SlackChannel.client_account_id).where(SlackChannel.team_id == team_id,
                                                     SlackChannel.channel_id == channel_id)
    )


async def channel_for_draft(*, session: AsyncSession, draft: GeneratedContent) -> tuple[str, str] | None:
    """(team_id, channel_id) where a draft is reviewed: its client's channel, else the workspace default."""
    scope = await workflow_service.draft_scope(session=session, draft=draft)
    if scope.client_account_id is not None:
        row = await session.scalar(
            select(SlackChannel).where(SlackChannel.client_account_id == scope.client_account_id)
        )
        if row is not None:
            return row.team_id, row.channel_id
    if scope.organization_id is None:
        return None
    ws = await session.scalar(
        select(SlackWorkspace).where(SlackWorkspace.organization_id == scope.organization_id,
                                     SlackWorkspace.default_channel_id.is_not(None)).limit(1)
    )
    return (ws.team_id, str(ws.default_channel_id)) if ws else None


async def remember_message(
    *, session: AsyncSession, request: ApprovalRequest, team_id: str, channel_id: str, message_ts: str
) -> SlackApprovalMessage:
    """Record the message of a request once; a second post (a retried task) keeps the first."""
    await session.execute(
        insert(SlackApprovalMessage).values(approval_request_id=request.id, team_id=team_id,
                                            channel_id=channel_id, message_ts=message_ts)
        .on_conflict_do_nothing(index_elements=["approval_request_id"])
    )
    return await session.get_one(SlackApprovalMessage, request.id, populate_existing=True)


async def message_of(*, session: AsyncSession, request_id: uuid.UUID) -> SlackApprovalMessage | None:
    return await session.get(SlackApprovalMessage, request_id)


async def accept_event(*, session: AsyncSession, event_id: str, team_id: str | None, event_type: str | None) -> bool:
    """True the first time an Events API event id is seen; False for Slack's retries of it."""
    result = await session.execute(
        insert(SlackEventReceipt).values(event_id=event_id, team_id=team_id, event_type=event_type)
        .on_conflict_do_nothing(index_elements=["event_id"]).returning(SlackEventReceipt.event_id)
    )
    return result.first() is not None


# ------------------------------------------------------------------------------------ installations


async def save_installation(*, session: AsyncSession, data: dict[str, Any], client_id: str | None) -> None:
    session.add(SlackInstallation(
        client_id=client_id, app_id=data.get("app_id"), enterprise_id=data.get("enterprise_id"),
        team_id=data.get("team_id"), user_id=data.get("user_id"),
        is_enterprise_install=bool(data.get("is_enterprise_install")), bot_token=data.get("bot_token"),
        bot_user_id=data.get("bot_user_id"), data=data,
    ))
    await session.flush()


async def find_installation(
    *,
    session: AsyncSession,
    client_id: str | None,
    enterprise_id: str | None,
    team_id: str | None,
    user_id: str | None = None,
    is_enterprise_install: bool | None = False,
) -> SlackInstallation | None:
    stmt = select(SlackInstallation).where(SlackInstallation.client_id == client_id,
                                           SlackInstallation.enterprise_id.is_not_distinct_from(enterprise_id))
    if not is_enterprise_install:
        stmt = stmt.where(SlackInstallation.team_id.is_not_distinct_from(team_id))
    if user_id is not None:
        stmt = stmt.where(SlackInstallation.user_id == user_id)
    return await session.scalar(stmt.order_by(SlackInstallation.installed_at.desc(),
                                              SlackInstallation.id.desc()).limit(1))


async def delete_installations(
    *, session: AsyncSession, client_id: str | None, enterprise_id: str | None, team_id: str | None,
    user_id: str | None = None,
) -> None:
    rows = await session.scalars(
        select(SlackInstallation).where(SlackInstallation.client_id == client_id,
                                        SlackInstallation.enterprise_id.is_not_distinct_from(enterprise_id),
                                        SlackInstallation.team_id.is_not_distinct_from(team_id))
    )
    for row in rows:
        if user_id is None or row.user_id == user_id:
            await session.delete(row)
    await session.flush()
