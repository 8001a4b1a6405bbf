"""Distribution tasks: publish a due post (the unit is due at the post's time), and an agency draft approved
under an auto-publish workflow."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.deps import CoreDeps
from core.distribution import agency, notices, platform_events, post_media, publishing, upkeep
from core.distribution.models import PostStatus, ScheduledPost
from core.inbox import service as inbox
from core.inbox.store import PLATFORM_TASK, PLATFORMS
from core.notify import outbox
from core.work import submit as work
from core.work.sweeper import adopter
from core.workflow import approvals
from tasks.registry import task


@task(publishing.PUBLISH, max_attempts=8)
async def publish_post(post_id: str, deps: CoreDeps) -> dict[str, str | None]:
    async with deps.sessionmaker() as session:
        outcome = await publishing.publish_post(session, deps.settings, uuid.UUID(post_id), store=deps.store)
        units = await notices.record_outcome(session, outcome)
        await session.commit()
    await outbox.flush(deps, units)
    return {"result": outcome.result, "url": outcome.url}


@task(post_media.PREPARE, max_attempts=3)
async def prepare_post_media(post_id: str, deps: CoreDeps) -> str:
    """Ahead of the due time: the platform-ready copy of a scheduled post's clip (the publisher makes it
    itself if this hasn't run)."""
    async with deps.sessionmaker() as session:
        post = await session.scalar(
            select(ScheduledPost).where(ScheduledPost.id == uuid.UUID(post_id)).with_for_update()
        )
        if post is None or post.status not in (PostStatus.SCHEDULED, PostStatus.HELD):
            return "not needed"
        return await publishing.prepare_media(session, deps.store, post)


@task(approvals.PUBLISH_TASK, key=lambda p: str(p.get("approval_request_id") or p["draft_id"]))
async def publish_approved_draft(
    draft_id: str, deps: CoreDeps, approval_request_id: str | None = None
) -> dict[str, int]:
    """Auto-publish: the approved draft goes out now on its client account's connected accounts."""
    async with deps.sessionmaker() as session:
        done = await agency.publish_approved_draft(
            session,
            deps.settings,
            draft_id=uuid.UUID(draft_id),
            approval_request_id=uuid.UUID(approval_request_id) if approval_request_id else None,
            store=deps.store,
        )
        await session.commit()
    await outbox.flush(deps, done.messages)
    await work.push(deps.work_queue, deps.sessionmaker, done.units)
    return {"posts": len(done.posts)}


@task("distribution.refresh_tokens", max_attempts=3)
async def refresh_tokens(deps: CoreDeps) -> dict[str, int]:
    """Scheduled: refresh tokens that expire within a week; warn owners whose token runs out before a post."""
    refreshed, messages = await upkeep.refresh_due(deps.sessionmaker, deps.settings)
    async with deps.sessionmaker() as session:
        warnings = await upkeep.warn_expiring(session)
        await session.commit()
    await outbox.flush(deps, messages + warnings)
    return {"refreshed": refreshed, "refresh_failed": len(messages), "warned": len(warnings)}


async def _event_given_up(deps: CoreDeps, payload: dict[str, Any], error: str) -> None:
    async with deps.sessionmaker() as session:
        await inbox.give_up(session, uuid.UUID(payload["event_id"]), error)
        await session.commit()


@task(
    PLATFORM_TASK,
    key=lambda p: str(p["event_id"]),
    on_give_up=_event_given_up,
    max_attempts=10,
    channel="platform",
)
async def process_platform_event(event_id: str, deps: CoreDeps) -> str:
    """A stored platform webhook, processed once (revocations hold posts and tell owners)."""
    async with deps.sessionmaker() as session:
        event = await inbox.claim(session, uuid.UUID(event_id))
        if event is None:
            return "locked-or-missing"
        if event.status in inbox.FINAL:
            return event.status
        status, note, units = await platform_events.process(
            session, deps.settings, sender=event.sender, event_type=event.event_type, raw_body=event.raw_body
        )
        inbox.mark_done(event, status, note)
        await session.commit()
    await outbox.flush(deps, units)
    return status


@adopter("distribution.platform_events")
async def adopt_stored_events(session: AsyncSession) -> int:
    """A stored platform event without a unit gets one (the sweeper runs this)."""
    return await inbox.adopt_unqueued(
        session, senders=list(PLATFORMS), kind=PLATFORM_TASK, after=timedelta(seconds=20), max_attempts=10
    )
