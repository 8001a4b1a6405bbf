"""What chat adapters call for distribution: connect, list, disconnect, publish now, schedule.

Each function takes the acting owner (resolved by the adapter from the chat identity) and works only on
that owner's drafts and connections; anyone else's look like they don't exist.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.common.clock import utcnow
from core.common.errors import NotAllowed, RecastError
from core.config import Settings
from core.distribution import connections, publishing
from core.distribution.clients import configured_clients
from core.distribution.connections import Owner
from core.distribution.errors import NotPublishable, PlatformError
from core.distribution.models import ConnectionStatus, PlatformConnection, PostStatus, ScheduledPost
from core.distribution.platforms.names import RULES, Platform, label
from core.repurposing.errors import DraftNotFound
from core.repurposing.models import GeneratedContent
from core.storage.files import FileStore
from core.workflow.models import ApprovalRequest

log = logging.getLogger(__name__)


class NotApproved(NotPublishable):
    user_message = "Approve the draft first; then it can be published."


@dataclass(frozen=True)
class Disconnected:
    platform: str
    username: str | None
    revoked_at_platform: bool
    cancelled_posts: int
    # Other accounts on the same sign-in (a member and the Pages they post as): the access stays for them.
    shares_sign_in_with: tuple[str, ...] = ()


async def _owned_draft(session: AsyncSession, owner: Owner, draft_id: uuid.UUID) -> GeneratedContent:
    draft = await session.get(GeneratedContent, draft_id)
    if draft is None:
        raise DraftNotFound()
    if draft.user_id != owner.user_id:
        raise NotAllowed("That draft belongs to someone else.")
    return draft


async def is_approved(session: AsyncSession, draft_id: uuid.UUID) -> bool:
    found = await session.scalar(
        select(ApprovalRequest.id)
        .where(ApprovalRequest.generated_content_id == draft_id, ApprovalRequest.status == "approved")
        .limit(1)
    )
    return found is not None


def format_of(draft: GeneratedContent) -> str:
    return str((draft.metadata_ or {}).get("output_format") or draft.content_type or "")


async def targets_for(session: AsyncSession, owner: Owner, draft: GeneratedContent) -> list[PlatformConnection]:
    """The owner's working connections that can carry this draft's format (a LinkedIn post goes to
    LinkedIn accounts, a clip to Instagram/YouTube/TikTok...)."""
    fmt = format_of(draft)
    return [
        c
        for c in await connections.connections_of(session, owner)
        if c.status == ConnectionStatus.ACTIVE and fmt in RULES[Platform(c.platform)].formats
    ]


async def schedule_draft(
    session: AsyncSession,
    *,
    owner: Owner,
    draft_id: uuid.UUID,
    connection_id: uuid.UUID,
    when: datetime | None,
    timezone: str,
    store: FileStore | None = None,
) -> tuple[ScheduledPost, uuid.UUID | None]:
    """Publish the approved draft on one of the owner's accounts at `when` (None: now). Returns the post and
    the work unit to push after commit (None if it was already scheduled there)."""
    draft = await _owned_draft(session, owner, draft_id)
    if not await is_approved(session, draft.id):
        raise NotApproved()
    connection = await connections.connection_of(session, owner, connection_id)
    if format_of(draft) not in RULES[Platform(connection.platform)].formats:
        raise NotPublishable(f"This kind of draft can't be posted on {RULES[Platform(connection.platform)].label}.")
    return await publishing.schedule(
        session, draft=draft, connection=connection, when=when or utcnow(), timezone=timezone, store=store
    )


async def disconnect(session: AsyncSession, settings: Settings, owner: Owner, connection_id: uuid.UUID) -> Disconnected:
    """Revoke the tokens at the platform where it allows it, delete them here, cancel what was scheduled."""
    connection = await connections.connection_of(session, owner, connection_id)
    revoked = False
    client = configured_clients(settings).get(Platform(connection.platform))
    box = connections.token_box(settings)
    token = box.decrypt(connection.access_token)
    sharing = tuple(
        str(c.platform_username or c.platform_user_id)
        for c in await connections.connections_of(session, owner)
        if c.id != connection.id and c.platform == connection.platform and c.status == ConnectionStatus.ACTIVE
        and token and box.decrypt(c.access_token) == token
    )  # fmt: skip
    if client is not None and token and connection.status == ConnectionStatus.ACTIVE and not sharing:
        try:
            revoked = await client.revoke(token)
        except PlatformError as exc:  # the tokens are deleted here anyway; say it wasn't confirmed there
            log.warning("revoking %s connection %s failed: %s", connection.platform, connection.id, exc)
    cancelled = await connections.disconnect(session, connection)
    return Disconnected(connection.platform, connection.platform_username, revoked, cancelled, sharing)


def disconnect_summary(result: Disconnected, *, whose: str = "your") -> str:
    """What a disconnect did, truthfully: tokens deleted here; revoked there, kept for another account on
    the same sign-in, or not confirmed; posts cancelled."""
    name = label(result.platform)
    text = "Its tokens are deleted here"
    if result.shares_sign_in_with:
        others = ", ".join(result.shares_sign_in_with)
        text += (
            f"; the same {name} sign-in still serves {others}, so Recast keeps that access until it's disconnected too."
        )
    elif result.revoked_at_platform:
        text += f" and {name} revoked Recast's access."
    else:
        text += f"; {name} didn't confirm revoking Recast's access, so remove Recast in {whose} {name} settings too."
    if result.cancelled_posts:
        text += f" {result.cancelled_posts} scheduled post(s) were cancelled."
    return text


class CannotCancel(RecastError):
    user_message = "That post can't be cancelled any more."


async def upcoming(session: AsyncSession, owner: Owner, *, limit: int = 20) -> list[ScheduledPost]:
    """The owner's posts still to go out (scheduled or held), soonest first: a creator's own, or for a
    client account every post on its accounts, whoever on the team scheduled it."""
    stmt = select(ScheduledPost).where(
        ScheduledPost.status.in_([PostStatus.SCHEDULED, PostStatus.HELD, PostStatus.PUBLISHING])
    )
    if owner.client_account_id is not None:
        stmt = stmt.join(PlatformConnection, PlatformConnection.id == ScheduledPost.platform_connection_id).where(
            PlatformConnection.client_account_id == owner.client_account_id
        )
    else:
        stmt = stmt.where(ScheduledPost.user_id == owner.user_id)
    rows = await session.scalars(stmt.order_by(ScheduledPost.scheduled_for).limit(limit))
    return list(rows.all())


async def cancel_post(session: AsyncSession, owner: Owner, post_id: uuid.UUID) -> ScheduledPost:
    """Stop a post that hasn't gone out. Locks the row, so it can't race the worker that publishes it: a
    post already being published (or out) is refused with what happened."""
    post = await session.scalar(select(ScheduledPost).where(ScheduledPost.id == post_id).with_for_update())
    if post is None or post.user_id != owner.user_id:
        raise NotAllowed("That post isn't one of yours.")
    if post.status == PostStatus.CANCELLED:
        return post
    if post.status == PostStatus.PUBLISHING:
        raise CannotCancel("It's being published right now, so it can't be stopped.")
    if post.status == PostStatus.PUBLISHED:
        raise CannotCancel(f"It's already out: {post.platform_post_url or 'see your account'}.")
    if post.status == PostStatus.FAILED:
        raise CannotCancel("It didn't go out (it failed), so there is nothing to cancel.")
    post.status = PostStatus.CANCELLED
    post.error_message = "cancelled by its owner"
    return post
