"""Who a Slack user is to Recast, and what they may do: linking a Slack user to a Recast user (by their link,
else by the e-mail of a team member), who may submit content from a channel, who approves a workflow's stage,
and who may start an agency for a workspace.

The Slack adapter gathers the facts Slack tells (a profile's e-mail, the admin flag) and calls these rules.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from core.integrations import slack_links
from core.integrations.errors import NotAWorkspaceAdmin, NoWorkflow, SlackUserNotLinked, WorkspaceNotLinked
from core.integrations.slack_models import SlackWorkspace
from core.workflow import members, workflows
from core.workflow.errors import InvalidWorkflow

# The Slack user's profile e-mail, asked of Slack only when a link by e-mail is needed.
EmailLookup = Callable[[], Awaitable[str | None]]


async def identify(
    *,
    session: AsyncSession,
    slack_user_id: str,
    team_id: str | None,
    email: EmailLookup,
    organization_id: uuid.UUID | None = None,
) -> uuid.UUID | None:
    """The Recast user behind a Slack user: their Slack link, else (linking them on the way) the team member of
    the workspace's organization (or `organization_id`) with their Slack e-mail."""
    user_id = await slack_links.recast_user(session=session, slack_user_id=slack_user_id)
    if user_id is not None:
        return user_id
    if organization_id is None and team_id:
        ws = await slack_links.workspace(session=session, team_id=team_id)
        organization_id = ws.organization_id if ws else None
    if organization_id is None:
        return None
    return await slack_links.link_by_email(
        session=session,
        slack_user_id=slack_user_id,
        team_id=team_id,
        email=await email(),
        organization_id=organization_id,
    )


@dataclass(frozen=True)
class Submitter:
    user_id: uuid.UUID
    organization_id: uuid.UUID
    client_account_id: uuid.UUID | None


async def check_submitter(
    *, session: AsyncSession, team_id: str, channel_id: str | None, slack_user_id: str, email: EmailLookup
) -> Submitter:
    """Who submits, for which organization and client, refusing when nobody would review the drafts."""
    ws = await slack_links.workspace(session=session, team_id=team_id)
    if ws is None:
        raise WorkspaceNotLinked()
    user_id = await identify(session=session, slack_user_id=slack_user_id, team_id=team_id, email=email)
    if (
        user_id is None
        or await members.member_role(session=session, organization_id=ws.organization_id, user_id=user_id) is None
    ):
        raise SlackUserNotLinked()
    client_id = (
        await slack_links.client_for_channel(session=session, team_id=team_id, channel_id=channel_id)
        if channel_id
        else None
    )
    if (
        await workflows.workflow_for(session=session, organization_id=ws.organization_id, client_account_id=client_id)
        is None
    ):
        raise NoWorkflow()
    return Submitter(user_id, ws.organization_id, client_id)


async def approvers_of(*, session: AsyncSession, slack_user_ids: list[str]) -> list[uuid.UUID]:
    """The Recast users a workflow stage names by their Slack accounts; each must be linked already."""
    approvers = []
    for slack_user in slack_user_ids:
        linked = await slack_links.recast_user(session=session, slack_user_id=slack_user)
        if linked is None:
            raise InvalidWorkflow(f"<@{slack_user}> isn't linked to Recast yet.")
        approvers.append(linked)
    return approvers


def can_start_agency(workspace: SlackWorkspace | None, *, slack_admin: bool) -> bool:
    """A workspace not linked yet may get a new agency, started by one of its Slack admins."""
    return workspace is None and slack_admin


def require_workspace_admin(*, slack_admin: bool) -> None:
    if not slack_admin:
        raise NotAWorkspaceAdmin()
