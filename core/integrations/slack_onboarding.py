"""How an agency gets into Recast from Slack, and the set-up checklist it then walks through.

Installing the app in a workspace nobody has linked yet starts a new agency organization named after the
workspace, with the installer as its owner. Installing (or `/recast link`) with an invite joins the
workspace to an existing organization instead: an invite is a `slack_invites` row issued by the
organization's owner (or by an operator on the server), handed out as a signed code and good once.
People are matched by their Slack user id first, their Slack e-mail second, and only then created.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import ClientAccount, Organization, TeamMember, User
from core.accounts.service import PLACEHOLDER_EMAIL_DOMAIN, unusable_password_hash
from core.billing import usage as billing_usage
from core.common.clock import utcnow
from core.common.errors import RecastError
from core.content.models import ContentAsset
from core.integrations import slack_links
from core.integrations.errors import NotAnOrgAdmin, UnknownOrganization
from core.integrations.slack_models import SlackChannel, SlackInvite
from core.integrations.slack_secrets import INVITE_TTL_SECONDS, invite_code, invite_of_code
from core.system import audit
from core.workflow import members, workflows
from core.workflow.models import ApprovalRequest, ApprovalWorkflow

INVITE_ROLES = ("admin", "manager", "creator", "client")
DEFAULT_STAGE = "Team review"
SAMPLE_SUBMISSION = (
    "Most creators post once and then disappear for a month. That is the biggest mistake. Consistency beats "
    "talent when you are building a personal brand on LinkedIn. Here is what worked for me after three years "
    "and two hundred posts. First, write for one person, not for everyone. When I started writing for early "
    "stage founders, my engagement doubled in six weeks. Second, turn every long video into ten small posts: "
    "one podcast episode gives you a thread, a carousel, three short clips and a newsletter. Third, reply to "
    "every comment in the first hour, because the algorithm rewards conversations. Why do most people quit? "
    "They measure followers instead of conversations. Show up every week, share what you learned, and be "
    "generous with your knowledge."
)


class InvalidInvite(RecastError):
    user_message = (
        "This invite is invalid, has expired or was already used. Ask the organization's owner for a new one "
        "(`/recast invite` in their workspace, or `recast org invite <organization>` on the server)."
    )


class WorkspaceAlreadyLinked(RecastError):
    def __init__(self, org_name: str) -> None:
        super().__init__(f"This workspace is already linked to *{org_name}*. Run `/recast setup` to carry on.")


@dataclass(frozen=True)
class SlackPerson:
    """Who a Slack user is, as far as Slack tells (users.info)."""

    slack_user_id: str
    team_id: str
    email: str | None = None
    full_name: str | None = None


async def user_for(*, session: AsyncSession, person: SlackPerson) -> uuid.UUID:
    """The Recast user behind a Slack user: their Slack link, else the user with their Slack e-mail, else a
    new user made from their Slack profile. Linked to the Slack user on the way."""
    user_id = await slack_links.recast_user(session=session, slack_user_id=person.slack_user_id)
    email = (person.email or "").strip().lower() or None
    if user_id is None and email:
        user_id = await session.scalar(select(User.id).where(func.lower(User.email) == email))
    if user_id is None:
        placeholder = f"slack-{person.team_id}-{person.slack_user_id}@{PLACEHOLDER_EMAIL_DOMAIN}".lower()
        user = User(
            email=email or placeholder,
            password_hash=unusable_password_hash(),
            full_name=(person.full_name or (email or "").split("@")[0] or "Slack user")[:255],
        )
        session.add(user)
        await session.flush()
        user_id = user.id
    await slack_links.link_user(
        session=session, user_id=user_id, slack_user_id=person.slack_user_id, team_id=person.team_id
    )
    return user_id


async def _unique_slug(session: AsyncSession, name: str) -> str:
    base = slack_links.slug_of(name)[:80] or "agency"
    slug, n = base, 1
    while await session.scalar(select(Organization.id).where(func.lower(Organization.slug) == slug)) is not None:
        n += 1
        slug = f"{base}-{n}"
    return slug


async def _lock_workspace(session: AsyncSession, team_id: str) -> None:
    # Two installs (or a double-clicked button) of one workspace: the second waits and sees the first's link.
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"slack-ws:{team_id}"})


async def start_agency(
    *, session: AsyncSession, team_id: str, team_name: str, person: SlackPerson, channel_id: str | None = None
) -> tuple[Organization, uuid.UUID]:
    """A new agency organization named after the workspace, owned by `person`, linked to the workspace."""
    await _lock_workspace(session, team_id)
    current = await slack_links.workspace(session=session, team_id=team_id)
    if current is not None:
        org = await session.get_one(Organization, current.organization_id)
        raise WorkspaceAlreadyLinked(org.name)
    owner_id = await user_for(session=session, person=person)
    name = " ".join(team_name.split())[:255] or "Slack agency"
    org = Organization(name=name, slug=await _unique_slug(session, name), owner_id=owner_id, type="agency")
    session.add(org)
    await session.flush()
    now = utcnow()
    session.add(TeamMember(organization_id=org.id, user_id=owner_id, role="owner", status="active", joined_at=now))
    await session.flush()
    await billing_usage.start_trial(session=session, user_id=owner_id, organization_id=org.id)
    await slack_links.link_workspace(
        session=session, team_id=team_id, organization_id=org.id, default_channel_id=channel_id
    )
    await audit.record(
        session=session,
        action="organization_created",
        user_id=owner_id,
        organization_id=org.id,
        resource_type="organization",
        resource_id=org.id,
        metadata={"via": "slack", "team_id": team_id},
    )
    return org, owner_id


async def create_invite(
    *,
    session: AsyncSession,
    secret: str | Sequence[str],
    organization_id: uuid.UUID,
    by_user_id: uuid.UUID | None,
    role: str = "admin",
) -> str:
    """A single-use invite code into the organization. From Slack only its owner may issue one; an operator
    (`by_user_id=None`, the CLI) issues it on the owner's behalf."""
    role = role.strip().lower()
    if role not in INVITE_ROLES:
        raise RecastError(f"An invite's role is one of {', '.join(INVITE_ROLES)}.")
    org = await session.get(Organization, organization_id)
    if org is None or org.deleted_at is not None:
        raise UnknownOrganization()
    if (
        by_user_id is not None
        and await members.member_role(session=session, organization_id=organization_id, user_id=by_user_id) != "owner"
    ):
        raise NotAnOrgAdmin("Only the organization's owner can invite another workspace.")
    invite = SlackInvite(
        organization_id=organization_id,
        role=role,
        created_by=by_user_id or org.owner_id,
        expires_at=utcnow() + timedelta(seconds=INVITE_TTL_SECONDS),
    )
    session.add(invite)
    await session.flush()
    await audit.record(
        session=session,
        action="slack_invite_created",
        user_id=invite.created_by,
        organization_id=organization_id,
        resource_type="slack_invite",
        resource_id=invite.id,
        metadata={"role": role, "via": "slack" if by_user_id else "cli"},
    )
    return invite_code(secret, invite.id)


async def open_invite(*, session: AsyncSession, secret: str | Sequence[str], code: str) -> SlackInvite:
    """The invite a code names while it is still good (not forged, expired or used); InvalidInvite else."""
    invite_id = invite_of_code(secret, code)
    invite = await session.get(SlackInvite, invite_id) if invite_id else None
    if invite is None or invite.used_at is not None or invite.expires_at <= utcnow():
        raise InvalidInvite()
    return invite


async def redeem_invite(
    *,
    session: AsyncSession,
    secret: str | Sequence[str],
    code: str,
    person: SlackPerson,
    channel_id: str | None = None,
    installing: bool = False,
) -> tuple[Organization, uuid.UUID]:
    """Use an invite (once): link the workspace to its organization and make `person` a member with the
    invite's role (a member already keeps a higher role). From `/recast link`, moving a workspace away from
    another organization also needs an owner or admin there; an install with the invite decides by itself."""
    invite_id = invite_of_code(secret, code)
    if invite_id is None:
        raise InvalidInvite()
    now = utcnow()
    claimed = (
        await session.execute(
            update(SlackInvite)
            .where(SlackInvite.id == invite_id, SlackInvite.used_at.is_(None), SlackInvite.expires_at > now)
            .values(used_at=now, used_team_id=person.team_id)
            .returning(SlackInvite.organization_id, SlackInvite.role)
            .execution_options(synchronize_session=False)
        )
    ).first()
    if claimed is None:
        raise InvalidInvite()
    organization_id, role = claimed
    org = await session.get(Organization, organization_id)
    if org is None or org.deleted_at is not None:
        raise InvalidInvite()
    user_id = await user_for(session=session, person=person)
    await session.execute(update(SlackInvite).where(SlackInvite.id == invite_id).values(used_by=user_id))
    member = await session.scalar(
        select(TeamMember).where(TeamMember.organization_id == org.id, TeamMember.user_id == user_id).with_for_update()
    )
    if member is None:
        session.add(
            TeamMember(
                organization_id=org.id, user_id=user_id, role=role, status="active", invited_at=now, joined_at=now
            )
        )
    else:
        if member.role not in ("owner", "admin"):
            member.role = role
        member.status = "active"
    await session.flush()
    await _lock_workspace(session, person.team_id)
    current = await slack_links.workspace(session=session, team_id=person.team_id)
    if current is not None and current.organization_id != org.id:
        if not installing:
            await slack_links.require_org_admin(
                session=session, organization_id=current.organization_id, user_id=user_id
            )
        await slack_links.forget_other_org_channels(session, person.team_id, org.id)
    default = channel_id if current is None or current.default_channel_id is None else None
    await slack_links.link_workspace(
        session=session, team_id=person.team_id, organization_id=org.id, default_channel_id=default
    )
    await audit.record(
        session=session,
        action="slack_workspace_linked",
        user_id=user_id,
        organization_id=org.id,
        resource_type="slack_workspace",
        metadata={"team_id": person.team_id, "via": "invite", "invite_id": str(invite_id)},
    )
    return org, user_id


async def default_workflow(
    *, session: AsyncSession, organization_id: uuid.UUID, by_user_id: uuid.UUID
) -> ApprovalWorkflow:
    """The organization's one-stage workflow: `by_user_id` (an owner, admin or manager) approves."""
    return await workflows.save_workflow(
        session=session,
        organization_id=organization_id,
        by_user_id=by_user_id,
        name="Approvals",
        stages=[workflows.Stage(order=1, name=DEFAULT_STAGE, approvers=(by_user_id,))],
    )


@dataclass(frozen=True)
class SetupState:
    """Where a workspace is in set-up: linked → a client channel → a workflow → a submission → an approval."""

    organization: Organization | None
    role: str | None
    channel_client: str | None  # the client account reviewed in the channel the checklist was asked in
    client_channels: int
    has_workflow: bool
    submissions: int
    approvals: int

    @property
    def done(self) -> bool:
        return bool(self.organization and self.client_channels and self.has_workflow and self.submissions)


async def setup_state(
    *, session: AsyncSession, team_id: str, channel_id: str | None, user_id: uuid.UUID | None
) -> SetupState:
    ws = await slack_links.workspace(session=session, team_id=team_id)
    if ws is None:
        return SetupState(None, None, None, 0, False, 0, 0)
    org = await session.get_one(Organization, ws.organization_id)
    role = await members.member_role(session=session, organization_id=org.id, user_id=user_id) if user_id else None
    channel_client = None
    if channel_id:
        channel_client = await session.scalar(
            select(ClientAccount.name)
            .join(SlackChannel, SlackChannel.client_account_id == ClientAccount.id)
            .where(SlackChannel.team_id == team_id, SlackChannel.channel_id == channel_id)
        )
    channels = (
        await session.scalar(select(func.count()).select_from(SlackChannel).where(SlackChannel.team_id == team_id)) or 0
    )
    has_workflow = (
        await session.scalar(
            select(func.count())
            .select_from(ApprovalWorkflow)
            .outerjoin(ClientAccount, ClientAccount.id == ApprovalWorkflow.client_account_id)
            .where(
                ApprovalWorkflow.is_active.is_(True),
                (ApprovalWorkflow.organization_id == org.id) | (ClientAccount.organization_id == org.id),
            )
        )
        or 0
    )
    submissions = (
        await session.scalar(
            select(func.count())
            .select_from(ContentAsset)
            .where(ContentAsset.organization_id == org.id, ContentAsset.source_platform == "slack")
        )
        or 0
    )
    approvals = (
        await session.scalar(
            select(func.count())
            .select_from(ApprovalRequest)
            .join(ApprovalWorkflow, ApprovalWorkflow.id == ApprovalRequest.workflow_id)
            .where(ApprovalWorkflow.organization_id == org.id, ApprovalRequest.status == "approved")
        )
        or 0
    )
    return SetupState(org, role, channel_client, int(channels), bool(has_workflow), int(submissions), int(approvals))
