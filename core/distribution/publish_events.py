"""Platform webhooks about the fate of our own posts: TikTok's Content Posting events and YouTube's feed.

TikTok tells a post's outcome by its `publish_id`, the handle a pending TikTok post keeps in
`post_metadata["pending_handle"]` while the publisher waits to ask again: `post.publish.complete`
(published; a public post's id comes later), `post.publish.publicly_available` (its public `post_id`) and
`post.publish.failed` (with TikTok's `reason`). The event body's `content` is itself a JSON string. The
publisher's own poll may learn the same outcome: whichever locks the post's row first finishes it, the other
finds it no longer open and changes nothing, and the owner's message is keyed per post and outcome, so
they hear once.

YouTube's WebSub feed names our published videos by id: an entry records when YouTube last updated it
(processing done, title edited), a `deleted-entry` (`yt:video:<id>`) that the video was removed on YouTube.
The post stays published (it was, and reports count it); its note says it was removed and its metrics stop.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.common.clock import utcnow
from core.distribution import connections, notices
from core.distribution.errors import ContentRejected
from core.distribution.models import PlatformConnection, PostStatus, ScheduledPost
from core.distribution.platforms import tiktok
from core.distribution.platforms.names import Platform
from core.distribution.ports import PublishedPost
from core.distribution.publishing import OPEN, PublishOutcome, Result, mark_published
from core.inbox.models import EventStatus
from core.inbox.payload import MalformedPayload, parse_object
from core.repurposing.models import GeneratedContent
from core.system.models import AuditLog

TIKTOK_COMPLETE = "post.publish.complete"
TIKTOK_PUBLIC = "post.publish.publicly_available"
TIKTOK_FAILED = "post.publish.failed"
TIKTOK_EVENTS = frozenset({TIKTOK_COMPLETE, TIKTOK_PUBLIC, TIKTOK_FAILED})
REMOVED_ON_YOUTUBE = "Removed on YouTube (deleted or made unavailable there)."

Handled = tuple[EventStatus, str | None, list[uuid.UUID]]


async def tiktok_post_event(session: AsyncSession, event_type: str, payload: dict[str, Any]) -> Handled:
    """Finish (or fail) the pending TikTok post this event names by its publish_id."""
    try:
        details = _content(payload)
    except MalformedPayload as exc:
        return EventStatus.MALFORMED, f"content: {exc}", []
    publish_id = str(details["publish_id"])
    found = await _tiktok_post(session, publish_id, str(payload.get("user_openid") or ""))
    if found is None:
        return EventStatus.IGNORED, f"publish_id {publish_id} is not a post Recast is waiting on", []
    post, connection = found
    await connections.act_for_owner(session, connection)
    if event_type == TIKTOK_FAILED:
        return await _tiktok_failed(session, post, publish_id, str(details.get("reason") or "no reason given"))
    handle = (connection.platform_username or "").removeprefix("@") if connection.platform_username else ""
    public_id = str(details.get("post_id") or "") if event_type == TIKTOK_PUBLIC else ""
    if public_id:
        made = PublishedPost(public_id, tiktok.video_url(handle, public_id) if handle else None)
    else:  # no public id yet (a private post never gets one): the publish id stands for it
        made = PublishedPost(publish_id, f"https://www.tiktok.com/@{handle}" if handle else None)
    if post.status not in OPEN:
        if post.status == PostStatus.PUBLISHED and public_id and post.platform_post_id != public_id:
            post.platform_post_id, post.platform_post_url = made.post_id, made.url  # its public id, once known
            return EventStatus.PROCESSED, f"recorded the public id of post {post.id}", []
        return EventStatus.IGNORED, f"post {post.id} was already {post.status}", []
    draft = await session.get(GeneratedContent, post.generated_content_id) if post.generated_content_id else None
    mark_published(
        session,
        post,
        draft,
        made,
        organization_id=connection.organization_id,
        audit={"via": f"tiktok webhook {event_type}", "publish_id": publish_id},
    )
    outcome = PublishOutcome(Result.PUBLISHED, post.id, post.platform, url=made.url)
    return EventStatus.PROCESSED, f"published post {post.id}", await notices.record_outcome(session, outcome)


def _content(payload: dict[str, Any]) -> dict[str, Any]:
    """The event's `content` (a JSON string), which must name a publish_id."""
    content = payload.get("content")
    details = parse_object(content.encode()) if isinstance(content, str) else dict(content or {})
    if not details.get("publish_id"):
        raise MalformedPayload("no publish_id")
    return details


async def _tiktok_post(
    session: AsyncSession, publish_id: str, open_id: str
) -> tuple[ScheduledPost, PlatformConnection] | None:
    """The post waiting on this publish_id on this creator's account, locked (the publisher's finish waits)."""
    row = (
        await session.execute(
            select(ScheduledPost, PlatformConnection)
            .join(PlatformConnection, PlatformConnection.id == ScheduledPost.platform_connection_id)
            .where(
                ScheduledPost.platform == Platform.TIKTOK,
                ScheduledPost.post_metadata["pending_handle"].astext == publish_id,
                PlatformConnection.platform_user_id == open_id,
            )
            .with_for_update(of=ScheduledPost)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def _tiktok_failed(session: AsyncSession, post: ScheduledPost, publish_id: str, reason: str) -> Handled:
    if post.status not in OPEN:
        return EventStatus.IGNORED, f"post {post.id} was already {post.status}", []
    error = tiktok.failure_for(reason, publish_id)
    if not isinstance(error, ContentRejected):
        # TikTok's own failure or its daily cap: nothing was posted, and the publisher's next try (already
        # due) asks about this publish_id, finds it failed and posts again or moves the post.
        return EventStatus.IGNORED, f"left to the publisher's retry ({reason})", []
    post.status = PostStatus.FAILED
    post.error_message = error.user_message
    session.add(
        AuditLog(
            user_id=post.user_id,
            action="post.failed",
            resource_type="scheduled_post",
            resource_id=post.id,
            metadata_={"platform": post.platform, "publish_id": publish_id, "reason": reason, "via": "tiktok webhook"},
        )
    )
    outcome = PublishOutcome(Result.FAILED, post.id, post.platform, reason=error.user_message)
    return EventStatus.PROCESSED, f"failed post {post.id}: {reason}", await notices.record_outcome(session, outcome)


async def youtube_feed_event(session: AsyncSession, payload: dict[str, Any]) -> Handled:
    """Record YouTube's updates of our published videos; a deleted entry marks the post removed there."""
    updated = {str(v["video_id"]): v for v in payload.get("videos") or [] if isinstance(v, dict) and v.get("video_id")}
    deleted = {str(ref).removeprefix("yt:video:") for ref in payload.get("deleted") or [] if ref}
    ids = set(updated) | deleted
    if not ids:
        return EventStatus.IGNORED, "no videos in the feed", []
    posts = (
        await session.scalars(
            select(ScheduledPost)
            .where(
                ScheduledPost.platform == Platform.YOUTUBE,
                ScheduledPost.platform_post_id.in_(ids),
                ScheduledPost.status == PostStatus.PUBLISHED,
            )
            .with_for_update()
        )
    ).all()
    if not posts:
        return EventStatus.IGNORED, "none of these videos is a post of Recast's", []
    now = utcnow().isoformat()
    notes = []
    for post in posts:
        video_id = post.platform_post_id or ""
        meta = dict(post.post_metadata or {})
        if video_id in deleted:
            if meta.get("removed_on_platform_at"):
                continue
            meta["removed_on_platform_at"] = now
            post.error_message = REMOVED_ON_YOUTUBE
            post.metrics_due_at = None  # a removed video has no more figures to collect
            notes.append(f"{video_id} removed")
        else:
            entry = updated[video_id]
            meta["youtube_feed_updated_at"] = str(entry.get("updated") or now)
            if entry.get("title"):
                meta["youtube_title"] = str(entry["title"])
            notes.append(f"{video_id} updated")
        post.post_metadata = meta
    if not notes:
        return EventStatus.IGNORED, "already recorded", []
    return EventStatus.PROCESSED, "; ".join(notes), []
