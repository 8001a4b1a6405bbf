"""Publishing for agencies: the client account's connected accounts carry the drafts its team approves.

A client account's connections belong to the account, not to whoever connected them (`Owner` with the
client account id); the team's owners, admins, managers and the client's own reviewers may publish an
approved draft of that client on them. Times are the client account's (`client_accounts.settings
["timezone"]`, else the organization's `settings["timezone"]`, else Asia/Kolkata).

A workflow with auto-publish publishes the draft **at once** on approval, on every active account of the
client that can carry it: the team approved it to go out, and a suggested slot would be a choice nobody
made. Scheduling for later is the Schedule button's job.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import ClientAccount, Organization
from core.common.clock import utcnow
from core.common.errors import NotAllowed
from core.config import Settings
from core.distribution import connect, connections, publishing, service
from core.distribution.connections import Owner
from core.distribution.errors import NotPublishable
from core.distribution.models import PlatformConnection, PostStatus, ScheduledPost
from core.distribution.notices import local_time
from core.distribution.platforms.names import RULES, Platform, label
from core.integrations import slack_links
from core.notify import outbox
from core.notify.ports import OutgoingMessage
from core.repurposing.errors import DraftNotFound
from core.repurposing.models import GeneratedContent
from core.storage.files import FileStore
from core.workflow import members, workflows

DEFAULT_TIMEZONE = "Asia/Kolkata"
PUBLISHER_ROLES = frozenset({"owner", "admin", "manager", "client"})


class NotAClientDraft(NotAllowed):
    user_message = (
        "This draft isn't for a client account, so there is no client account to publish it to. "
        "Run `/recast channel <client>` in the client's channel first."
    )


class NotAPublisher(NotAllowed):
    user_message = "Only the team's owners, admins, managers and the client's reviewers can publish its drafts."


def _valid_zone(name: object) -> str | None:
    if not isinstance(name, str) or not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


async def client_timezone(session: AsyncSession, client_account_id: uuid.UUID) -> str:
    """The client account's timezone, else its organization's, else Asia/Kolkata."""
    client = await session.get(ClientAccount, client_account_id)
    if client is None:
        return DEFAULT_TIMEZONE
    if tz := _valid_zone((client.settings or {}).get("timezone")):
        return tz
    org = await session.get(Organization, client.organization_id) if client.organization_id else None
    return _valid_zone((org.settings or {}).get("timezone") if org else None) or DEFAULT_TIMEZONE


@dataclass(frozen=True)
class ClientDraft:
    draft: GeneratedContent
    client: ClientAccount
    timezone: str

    def owner(self, user_id: uuid.UUID | None = None) -> Owner:
        """The client account as the owner of connections; `user_id` is whoever acts (a client account's
        connections are found by the account alone, so the draft's creator stands in when nobody does)."""
        acting = user_id or self.draft.user_id or self.client.id
        return Owner(acting, self.client.id, self.client.organization_id)


async def client_draft(session: AsyncSession, draft_id: uuid.UUID) -> ClientDraft | None:
    """The draft with its client account (None when it was not written for one)."""
    draft = await session.get(GeneratedContent, draft_id)
    if draft is None:
        raise DraftNotFound()
    scope = await workflows.draft_scope(session=session, draft=draft)
    client = await session.get(ClientAccount, scope.client_account_id) if scope.client_account_id else None
    if client is None:
        return None
    return ClientDraft(draft, client, await client_timezone(session, client.id))


async def targets(session: AsyncSession, found: ClientDraft) -> list[PlatformConnection]:
    """The client account's working connections that can carry the draft (`service.targets_for`)."""
    return await service.targets_for(session, found.owner(), found.draft)


def platforms_for(settings: Settings, draft: GeneratedContent) -> list[Platform]:
    """Platforms this server can connect that would carry the draft: what to suggest connecting."""
    return [p for p in connect.connectable(settings) if service.format_of(draft) in RULES[p].formats]


def account_name(connection: PlatformConnection) -> str:
    name = label(connection.platform)
    return f"{name} ({connection.platform_username})" if connection.platform_username else name


async def require_publisher(session: AsyncSession, client: ClientAccount, user_id: uuid.UUID) -> None:
    """Who may connect the client's accounts and publish its drafts: its organization's owners, admins and
    managers, and the client's own reviewers (`NotAPublisher` for anyone else)."""
    if await members.role_in(session, client.organization_id, user_id) not in PUBLISHER_ROLES:
        raise NotAPublisher()


async def schedule_for_client(
    session: AsyncSession,
    *,
    draft_id: uuid.UUID,
    connection_id: uuid.UUID,
    by_user_id: uuid.UUID,
    when: datetime | None,
    store: FileStore | None = None,
) -> tuple[ScheduledPost, uuid.UUID | None]:
    """A team member publishes the client's approved draft on one of the client's accounts at `when` (None:
    now). Returns the post and the work unit to push after commit (None: it was already scheduled there)."""
    found = await client_draft(session, draft_id)
    if found is None:
        raise NotAClientDraft()
    await require_publisher(session, found.client, by_user_id)
    if not await service.is_approved(session, draft_id):
        raise service.NotApproved()
    connection = await connections.connection_of(session, found.owner(by_user_id), connection_id)
    rules = RULES[Platform(connection.platform)]
    if service.format_of(found.draft) not in rules.formats:
        raise NotPublishable(f"This kind of draft can't be posted on {rules.label}.")
    out = await _published_on(session, draft_id, connection.id)
    if out is not None:  # a second click on an old button must not post it again
        raise NotPublishable(
            f"It's already published on {account_name(connection)}: {out.platform_post_url or 'see the account'}."
        )
    return await publishing.schedule(
        session,
        draft=found.draft,
        connection=connection,
        when=when or utcnow(),
        timezone=found.timezone,
        store=store,
    )


def moved_note(post: ScheduledPost) -> str | None:
    """Why a post asked for now (or at a time) was scheduled later: the platform's daily cap; else None."""
    if not (post.post_metadata or {}).get("moved_from"):
        return None
    cap = RULES[Platform(post.platform)].daily_posts
    return (
        f"{label(post.platform)} takes {cap} posts a day from one account and this one has that many already, "
        f"so it's scheduled for {local_time(post.scheduled_for, post.timezone)}; the link will follow here."
    )


@dataclass
class AutoPublished:
    """What `publish_approved_draft` did: publish units to push and thread messages to flush after commit."""

    posts: list[uuid.UUID] = field(default_factory=list)
    units: list[uuid.UUID] = field(default_factory=list)
    messages: list[uuid.UUID] = field(default_factory=list)


async def _published_on(session: AsyncSession, draft_id: uuid.UUID, connection_id: uuid.UUID) -> ScheduledPost | None:
    return await session.scalar(
        select(ScheduledPost)
        .where(
            ScheduledPost.generated_content_id == draft_id,
            ScheduledPost.platform_connection_id == connection_id,
            ScheduledPost.status == PostStatus.PUBLISHED,
        )
        .limit(1)
    )


async def _already_on(session: AsyncSession, draft_id: uuid.UUID, connection_id: uuid.UUID) -> bool:
    # A re-run of the unit (a crash after its commit) must not post the draft a second time.
    found = await session.scalar(
        select(ScheduledPost.id)
        .where(
            ScheduledPost.generated_content_id == draft_id,
            ScheduledPost.platform_connection_id == connection_id,
            ScheduledPost.status.not_in([PostStatus.CANCELLED, PostStatus.FAILED]),
        )
        .limit(1)
    )
    return found is not None


async def publish_approved_draft(
    session: AsyncSession,
    settings: Settings,
    *,
    draft_id: uuid.UUID,
    approval_request_id: uuid.UUID | None = None,
    store: FileStore | None = None,
) -> AutoPublished:
    """Auto-publish: the approved draft goes out now on each of its client account's active accounts that can
    carry it; the approval thread is told which (or, with none connected, how to connect one). The caller
    commits, pushes `units` and flushes `messages`."""
    done = AutoPublished()
    found = await client_draft(session, draft_id)
    lines: list[str] = []
    if found is None:
        lines.append(f"✅ Approved. {NotAClientDraft.user_message}")
    else:
        connected = await targets(session, found)
        for connection in connected:
            if await _already_on(session, draft_id, connection.id):
                continue
            try:
                post, unit = await publishing.schedule(
                    session,
                    draft=found.draft,
                    connection=connection,
                    when=utcnow(),
                    timezone=found.timezone,
                    store=store,
                )
            except NotPublishable as exc:
                lines.append(f"Not published on {account_name(connection)}: {exc.user_message}")
                continue
            done.posts.append(post.id)
            if unit is not None and (moved := moved_note(post)):
                lines.append(f"🗓 {account_name(connection)}: {moved}")
            elif unit is not None:
                done.units.append(unit)
                lines.append(f"🚀 Publishing on {account_name(connection)} now; the link will follow here.")
        if not connected:
            fits = platforms_for(settings, found.draft)
            lines.append(
                f"✅ Approved; connect an account with `/recast connect {fits[0]}` to publish it."
                if fits
                else "✅ Approved. Publishing isn't set up on this server (no platform app keys), so post it by hand."
            )
    if not lines:
        return done
    text = "\n".join(lines)
    key = f"autopublish:{approval_request_id or draft_id}"
    for chat in await slack_links.approval_threads(session=session, draft_id=draft_id):
        done.messages.append(
            await outbox.record(session, chat, OutgoingMessage(text=text), key=f"{key}:{chat.chat_id}")
        )
    return done
