"""Who and where in Slack: workspace ↔ organization, client account ↔ channel, Slack user ↔ Recast user,
the message showing each approval request, and Events API deliveries already accepted."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import ChatIdentity, ClientAccount, Organization, TeamMember, User
from core.accounts.service import unusable_password_hash
from core.common.clock import utcnow
from core.common.errors import RecastError
from core.integrations.errors import InvalidRole, NotAnOrgAdmin, UnknownOrganization, WorkspaceNotLinked
from core.integrations.slack_models import (
    SlackApprovalMessage,
    SlackChannel,
    SlackEventReceipt,
    SlackWorkspace,
)
from core.notify.ports import ChatRef
from core.repurposing.models import GeneratedContent
from core.system import audit
from core.workflow import members, workflows
from core.workflow.models import ApprovalRequest


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
    # One client per channel: a channel moved to another client stops routing the previous one's drafts.
    await session.execute(
        delete(SlackChannel).where(
            SlackChannel.team_id == team_id,
            SlackChannel.channel_id == channel_id,
            SlackChannel.client_account_id != client_account_id,
        )
    )
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
        select(ChatIdentity.user_id).where(
            ChatIdentity.provider == "slack", ChatIdentity.external_user_id == slack_user_id
        )
    )


async def slack_user_of(*, session: AsyncSession, user_id: uuid.UUID) -> str | None:
    return await session.scalar(
        select(ChatIdentity.external_user_id)
        .where(ChatIdentity.provider == "slack", ChatIdentity.user_id == user_id)
        .limit(1)
    )


async def workspace(*, session: AsyncSession, team_id: str) -> SlackWorkspace | None:
    return await session.get(SlackWorkspace, team_id)


async def client_for_channel(*, session: AsyncSession, team_id: str, channel_id: str) -> uuid.UUID | None:
    return await session.scalar(
        select(SlackChannel.client_account_id).where(
            SlackChannel.team_id == team_id, SlackChannel.channel_id == channel_id
        )
    )


async def channel_for_draft(*, session: AsyncSession, draft: GeneratedContent) -> tuple[str, str] | None:
    """(team_id, channel_id) where a draft is reviewed: its client's channel, else the workspace default."""
    scope = await workflows.draft_scope(session=session, draft=draft)
    if scope.client_account_id is not None:
        row = await session.scalar(
            select(SlackChannel).where(SlackChannel.client_account_id == scope.client_account_id)
        )
        if row is not None:
            return row.team_id, row.channel_id
    if scope.organization_id is None:
        return None
    ws = await session.scalar(
        select(SlackWorkspace)
        .where(SlackWorkspace.organization_id == scope.organization_id, SlackWorkspace.default_channel_id.is_not(None))
        .limit(1)
    )
    return (ws.team_id, str(ws.default_channel_id)) if ws else None


async def remember_message(
    *, session: AsyncSession, request: ApprovalRequest, team_id: str, channel_id: str, message_ts: str
) -> SlackApprovalMessage:
    """Record the message of a request once; a second post (a retried task) keeps the first."""
    await session.execute(
        insert(SlackApprovalMessage)
        .values(approval_request_id=request.id, team_id=team_id, channel_id=channel_id, message_ts=message_ts)
        .on_conflict_do_nothing(index_elements=["approval_request_id"])
    )
    return await session.get_one(SlackApprovalMessage, request.id, populate_existing=True)


async def message_of(*, session: AsyncSession, request_id: uuid.UUID) -> SlackApprovalMessage | None:
    return await session.get(SlackApprovalMessage, request_id, populate_existing=True)


async def remember_revision(*, session: AsyncSession, request_id: uuid.UUID, revision_ts: str) -> str | None:
    """Record the thread reply showing the latest version; returns the previous one's ts, if any."""
    message = await session.get_one(SlackApprovalMessage, request_id, with_for_update=True)
    previous, message.revision_ts = message.revision_ts, revision_ts
    await session.flush()
    return previous


def slack_chat(team_id: str, channel_id: str, thread_ts: str | None = None) -> ChatRef:
    """A Slack channel (or one message's thread in it) as a notifier `ChatRef`: `team:channel[:thread ts]`."""
    return ChatRef("slack", ":".join([team_id, channel_id, *([thread_ts] if thread_ts else [])]))


def parse_slack_chat(chat: ChatRef) -> tuple[str, str, str | None]:
    """(team id, channel id, thread ts or None) of a `slack_chat` reference."""
    team_id, channel_id, *thread = chat.chat_id.split(":", 2)
    return team_id, channel_id, (thread[0] if thread else None)


async def approval_threads(*, session: AsyncSession, draft_id: uuid.UUID) -> list[ChatRef]:
    """The Slack threads of the draft's approved requests: where the team hears what became of it."""
    rows = await session.scalars(
        select(SlackApprovalMessage)
        .join(ApprovalRequest, ApprovalRequest.id == SlackApprovalMessage.approval_request_id)
        .where(ApprovalRequest.generated_content_id == draft_id, ApprovalRequest.status == "approved")
        .order_by(SlackApprovalMessage.created_at)
    )
    return [slack_chat(m.team_id, m.channel_id, m.message_ts) for m in rows]


async def client_channel_chat(*, session: AsyncSession, client_account_id: uuid.UUID) -> ChatRef | None:
    """The Slack channel where a client account's drafts are reviewed, as a notifier `ChatRef`."""
    row = await session.scalar(select(SlackChannel).where(SlackChannel.client_account_id == client_account_id))
    return slack_chat(row.team_id, row.channel_id) if row else None


async def accept_event(*, session: AsyncSession, event_id: str, team_id: str | None, event_type: str | None) -> bool:
    """True the first time an Events API event id is seen; False for Slack's retries of it."""
    result = await session.execute(
        insert(SlackEventReceipt)
        .values(event_id=event_id, team_id=team_id, event_type=event_type)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(SlackEventReceipt.event_id)
    )
    return result.first() is not None


# ------------------------------------------------------------------------------- linking from Slack

ADMIN_ROLES = frozenset({"owner", "admin"})


async def require_org_admin(*, session: AsyncSession, organization_id: uuid.UUID, user_id: uuid.UUID) -> str:
    role = await members.member_role(session=session, organization_id=organization_id, user_id=user_id)
    if role not in ADMIN_ROLES:
        raise NotAnOrgAdmin()
    return str(role)


async def organization_for(*, session: AsyncSession, ref: str) -> Organization:
    """The organization named by its slug."""
    org = await session.scalar(select(Organization).where(func.lower(Organization.slug) == ref.strip().lower()))
    if org is None or org.deleted_at is not None:
        raise UnknownOrganization()
    return org


async def forget_other_org_channels(session: AsyncSession, team_id: str, organization_id: uuid.UUID) -> None:
    # A workspace moving to another organization must not keep routing the old one's client drafts.
    other_clients = select(ClientAccount.id).where(ClientAccount.organization_id != organization_id)
    await session.execute(
        delete(SlackChannel).where(SlackChannel.team_id == team_id, SlackChannel.client_account_id.in_(other_clients))
    )


async def link_workspace_by(
    *, session: AsyncSession, team_id: str, channel_id: str | None, organization_id: uuid.UUID, by_user_id: uuid.UUID
) -> SlackWorkspace:
    """An owner or admin links this workspace to their organization; moving a workspace away from another
    organization needs the same role there. The channel becomes the default review channel if none is set."""
    await require_org_admin(session=session, organization_id=organization_id, user_id=by_user_id)
    current = await workspace(session=session, team_id=team_id)
    if current is not None and current.organization_id != organization_id:
        await require_org_admin(session=session, organization_id=current.organization_id, user_id=by_user_id)
        await forget_other_org_channels(session, team_id, organization_id)
    default = channel_id if current is None or current.default_channel_id is None else None
    linked = await link_workspace(
        session=session, team_id=team_id, organization_id=organization_id, default_channel_id=default
    )
    await audit.record(
        session=session,
        action="slack_workspace_linked",
        user_id=by_user_id,
        organization_id=organization_id,
        resource_type="slack_workspace",
        metadata={"team_id": team_id, "via": "command"},
    )
    return linked


def slug_of(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:100] or "client"


async def link_client_channel(
    *, session: AsyncSession, team_id: str, channel_id: str, by_user_id: uuid.UUID, client: str
) -> tuple[ClientAccount, bool]:
    """Route a client account's drafts to this channel (one client per channel). The client account is
    found by slug or name in the workspace's organization, else created. Returns (client, created)."""
    ws = await workspace(session=session, team_id=team_id)
    if ws is None:
        raise WorkspaceNotLinked()
    await require_org_admin(session=session, organization_id=ws.organization_id, user_id=by_user_id)
    name = " ".join(client.split())[:255]
    if not name:
        raise RecastError("Name the client account, e.g. `/recast channel Acme Foods`.")
    slug = slug_of(name)
    account = await session.scalar(
        select(ClientAccount)
        .where(
            ClientAccount.organization_id == ws.organization_id,
            or_(func.lower(ClientAccount.slug) == slug, func.lower(ClientAccount.name) == name.lower()),
        )
        .order_by(ClientAccount.created_at)
        .limit(1)
    )
    created = account is None
    if account is None:
        account = ClientAccount(organization_id=ws.organization_id, name=name, slug=slug)
        session.add(account)
        await session.flush()
    await link_channel(session=session, team_id=team_id, channel_id=channel_id, client_account_id=account.id)
    await audit.record(
        session=session,
        action="slack_channel_linked",
        user_id=by_user_id,
        organization_id=ws.organization_id,
        resource_type="client_account",
        resource_id=account.id,
        metadata={"team_id": team_id, "channel_id": channel_id, "created": created},
    )
    return account, created


async def link_by_email(
    *,
    session: AsyncSession,
    slack_user_id: str,
    team_id: str | None,
    email: str | None,
    organization_id: uuid.UUID | None,
) -> uuid.UUID | None:
    """Link a Slack user to the organization's active team member with the same email (Slack verifies
    workspace emails). None when there is no such member."""
    if not email or organization_id is None:
        return None
    user_id = await session.scalar(
        select(User.id)
        .join(TeamMember, TeamMember.user_id == User.id)
        .where(
            func.lower(User.email) == email.strip().lower(),
            TeamMember.organization_id == organization_id,
            or_(TeamMember.status.is_(None), TeamMember.status == "active"),
        )
        .limit(1)
    )
    if user_id is not None:
        await link_user(session=session, user_id=user_id, slack_user_id=slack_user_id, team_id=team_id or "")
    return user_id


async def set_member(
    *,
    session: AsyncSession,
    organization_id: uuid.UUID,
    by_user_id: uuid.UUID,
    slack_user_id: str,
    team_id: str,
    role: str,
    email: str | None,
    full_name: str | None,
) -> TeamMember:
    """An owner or admin makes a Slack user a team member with `role` (found by their Slack link or email,
    else created from their Slack profile). Only owners grant or change the owner role."""
    role = role.strip().lower()
    if role not in members.ROLES:
        raise InvalidRole()
    by_role = await require_org_admin(session=session, organization_id=organization_id, user_id=by_user_id)
    if role == "owner" and by_role != "owner":
        raise NotAnOrgAdmin("Only an owner can make someone an owner.")
    user_id = await recast_user(session=session, slack_user_id=slack_user_id)
    if user_id is None:
        if not email:
            raise RecastError(f"I can't see <@{slack_user_id}>'s email in Slack, so I can't match them to Recast.")
        user = await session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
        if user is None:
            user = User(
                email=email.strip().lower(),
                password_hash=unusable_password_hash(),
                full_name=(full_name or email.split("@")[0])[:255],
            )
            session.add(user)
            await session.flush()
        user_id = user.id
    member = await session.scalar(
        select(TeamMember)
        .where(TeamMember.organization_id == organization_id, TeamMember.user_id == user_id)
        .with_for_update()
    )
    if member is not None and member.role == "owner" and by_role != "owner":
        raise NotAnOrgAdmin("Only an owner can change an owner's role.")
    now = utcnow()
    if member is None:
        member = TeamMember(
            organization_id=organization_id,
            user_id=user_id,
            role=role,
            invited_by=by_user_id,
            invited_at=now,
            joined_at=now,
            status="active",
        )
        session.add(member)
    member.role, member.status = role, "active"
    await session.flush()
    await link_user(session=session, user_id=user_id, slack_user_id=slack_user_id, team_id=team_id)
    await audit.record(
        session=session,
        action="team_member_role_set",
        user_id=by_user_id,
        organization_id=organization_id,
        resource_type="team_member",
        resource_id=member.id,
        metadata={"role": role, "slack_user_id": slack_user_id},
    )
    return member
