"""Scheduling and publishing a draft on a connected account, exactly once.

A scheduled post is a `scheduled_posts` row plus a durable work unit due at its time (`core.work`: the
unit's lease means one worker runs it at a time). Each try is first written to `publish_attempts` and
committed; only then is the platform called. An attempt left `sent` (the worker died) or `unknown` (a
timeout or 5xx after sending) makes the next try ask the platform whether the post exists before posting
again, so a timeout never becomes a double post. Platform errors are sorted by what helps: transient ones
come back later with backoff (or at the platform's `Retry-After`), a revoked token holds every post of the
connection until its owner reconnects, a retired API version holds the post and tells the operator, and a
rejected post fails with the platform's reason.
"""

from __future__ import annotations

import logging
import random
import re
import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.common.clock import utcnow
from core.common.redaction import redact
from core.config import Settings
from core.distribution import connections, post_media, quotas
from core.distribution.clients import client_for
from core.distribution.errors import (
    ContentRejected,
    NotConfigured,
    NotConnected,
    NotPublishable,
    OutcomeUnknown,
    PlatformError,
    QuotaExhausted,
    RateLimited,
    TokenRevoked,
    VersionRetired,
)
from core.distribution.models import (
    AttemptOutcome,
    ConnectionStatus,
    PlatformConnection,
    PostStatus,
    PublishAttempt,
    ScheduledPost,
)
from core.distribution.platforms.names import RULES, Platform, label
from core.distribution.ports import Credentials, PlatformClient, PostContent, PublishedPost
from core.distribution.post_media import PostMedia
from core.media.errors import MediaError
from core.pipeline.render import full_text
from core.repurposing.models import GeneratedContent
from core.storage.files import FileStore
from core.system.models import AuditLog
from core.work import submit as work

log = logging.getLogger(__name__)

PUBLISH = "distribution.publish_post"
HASHTAG = re.compile(r"(?<![\w#&])#\w+")
REFRESH_AHEAD_S = 300.0
RETRY_BASE_S = 30.0
RETRY_CAP_S = 3600.0


class Result(StrEnum):
    PUBLISHED = "published"
    ALREADY_DONE = "already_done"  # published, cancelled or failed before this run
    NOT_DUE = "not_due"  # rescheduled later: the unit for the new time publishes it
    HELD = "held"
    RETRY = "retry"
    MOVED = "moved"  # the platform's daily allowance is used up: the post moved to `moved_to`
    FAILED = "failed"


@dataclass(frozen=True)
class PublishOutcome:
    """What a run did, and what the post's owner should be told (None: nothing new to tell)."""

    result: Result
    post_id: uuid.UUID
    platform: str
    url: str | None = None
    reason: str | None = None
    retry_in_s: float | None = None
    held_posts: int = 0
    moved_to: datetime | None = None


def post_parts(draft: GeneratedContent, platform: str) -> list[str]:
    """One text per create call: an X thread's posts (as the writer numbered them), else the one post."""
    tweets = [str(t) for t in (draft.metadata_ or {}).get("tweets", []) if str(t).strip()]
    if Platform(platform) == Platform.X and tweets:
        return tweets
    return [full_text(draft)]  # the same text the Copy button gives


def _media_for(draft: GeneratedContent, platform: Platform, store: FileStore | None) -> PostMedia | None:
    found = post_media.media_of(draft) if store is not None else None
    post_media.require_media(platform, found is not None)
    if found is None or store is None:
        return None
    url, kind = found
    return PostMedia(url, kind, post_media.check_media(store.local_path(url), kind, platform))


def check_publishable(platform: str, parts: list[str]) -> None:
    """Before scheduling: what the platform would refuse at publish time is refused now, with the reason."""
    rules = RULES[Platform(platform)]
    if not any(p.strip() for p in parts):
        raise NotPublishable("This draft is empty, so there is nothing to post.")
    if len(parts) > rules.max_parts:
        raise NotPublishable(
            f"{rules.label} threads here take up to {rules.max_parts} posts and this one has {len(parts)}. "
            "Revise it shorter, then schedule it again."
        )
    tags = sum(len(HASHTAG.findall(part)) for part in parts)
    if rules.max_hashtags is not None and tags > rules.max_hashtags:
        raise NotPublishable(
            f"{rules.label} takes up to {rules.max_hashtags} hashtags and this draft has {tags}. "
            "Revise it with fewer, then schedule it again."
        )
    for number, part in enumerate(parts, 1):
        if len(part) > rules.max_text:
            which = f"post {number} of the thread" if len(parts) > 1 else "this draft"
            raise NotPublishable(
                f"{rules.label} takes up to {rules.max_text:,} characters a post and {which} has {len(part):,}. "
                "Revise it shorter, then schedule it again."
            )


async def schedule(
    session: AsyncSession,
    *,
    draft: GeneratedContent,
    connection: PlatformConnection,
    when: datetime,
    timezone: str,
    store: FileStore | None = None,
) -> tuple[ScheduledPost, uuid.UUID | None]:
    """Schedule the draft on the account at `when` (aware; stored as UTC). Returns the post and the new work
    unit to push after commit (None when this draft was already scheduled there: the first one stands).
    With `store`, the draft's clip goes with the post, checked against the platform's limits now."""
    if connection.status != ConnectionStatus.ACTIVE:
        raise NotPublishable(f"The {label(connection.platform)} account needs to be connected again first (/connect).")
    parts = post_parts(draft, connection.platform)
    check_publishable(connection.platform, parts)
    media = _media_for(draft, Platform(connection.platform), store)
    asked, when = when, await next_allowed(session, connection, when)
    moved = {"moved_from": asked.isoformat()} if when != asked else {}
    stmt = (
        pg_insert(ScheduledPost)
        .values(
            generated_content_id=draft.id,
            platform_connection_id=connection.id,
            user_id=draft.user_id,
            platform=connection.platform,
            scheduled_for=when,
            timezone=timezone,
            status=PostStatus.SCHEDULED,
            post_caption="\n\n".join(parts),
            post_hashtags=list(draft.hashtags or []),
            post_metadata={"parts": parts, **({"media": media.to_json()} if media else {}), **moved},
        )
        .on_conflict_do_nothing(
            index_elements=["generated_content_id", "platform_connection_id"],
            # Literal, not bound: PostgreSQL matches the partial index by its predicate, and a parameter in a
            # generic prepared plan (asyncpg's, after five runs) matches nothing.
            index_where=text("status IN ('scheduled', 'publishing', 'held')"),
        )
        .returning(ScheduledPost.id)
    )
    post_id = await session.scalar(stmt)
    if post_id is None:
        existing = await session.scalar(
            select(ScheduledPost).where(
                ScheduledPost.generated_content_id == draft.id,
                ScheduledPost.platform_connection_id == connection.id,
                ScheduledPost.status.in_([PostStatus.SCHEDULED, PostStatus.PUBLISHING, PostStatus.HELD]),
            )
        )
        assert existing is not None
        return existing, None
    draft.scheduled_for = when
    unit_id = await add_publish_unit(session, post_id, when)
    if media is not None and media.fixes:  # prepared ahead of the due time; the publisher checks it's done
        await work.add(session, post_media.PREPARE, {"post_id": str(post_id)}, key=f"{post_id}:prepare", delay_s=1)
    post = await session.get(ScheduledPost, post_id)
    assert post is not None
    return post, unit_id


DAY = timedelta(hours=24)
FIRST_COLLECTION = timedelta(hours=1)  # = core.analytics.collection.STAGES[0]
_COUNTED = (PostStatus.SCHEDULED, PostStatus.PUBLISHING, PostStatus.HELD, PostStatus.PUBLISHED)


async def next_allowed(session: AsyncSession, connection: PlatformConnection, when: datetime) -> datetime:
    """`when`, or the first moment after it that the platform's daily cap for the account (any 24 hours)
    leaves room for one more post, counting what is already scheduled or published there."""
    limit = RULES[Platform(connection.platform)].daily_posts
    if limit is None:
        return when
    at = func.coalesce(ScheduledPost.published_at, ScheduledPost.scheduled_for)
    rows = await session.scalars(
        select(at)
        .where(
            ScheduledPost.platform_connection_id == connection.id,
            ScheduledPost.status.in_(_COUNTED),
            at > when - DAY,
        )
        .order_by(at)
    )
    times = list(rows.all())
    while True:
        window = [t for t in times if when - DAY < t <= when]
        if len(window) < limit:
            return when
        when = window[len(window) - limit] + DAY + timedelta(seconds=1)


async def add_publish_unit(
    session: AsyncSession, post_id: uuid.UUID, when: datetime, *, key: str | None = None
) -> uuid.UUID:
    delay = max(0.0, (when - utcnow()).total_seconds())
    unit_id, _ = await work.add(
        session, PUBLISH, {"post_id": str(post_id)}, key=key or f"{post_id}:{when.isoformat()}", delay_s=delay
    )
    return unit_id


def retry_delay(attempt: int, retry_after: float | None, *, base_s: float = RETRY_BASE_S) -> float:
    """Exponential backoff with jitter, never sooner than the platform's Retry-After."""
    step = min(RETRY_CAP_S, base_s * 2 ** max(0, attempt - 1)) * random.uniform(0.5, 1.0)  # noqa: S311
    return float(max(step, retry_after or 0.0))


@dataclass
class _Run:
    post: ScheduledPost
    connection: PlatformConnection
    draft: GeneratedContent | None
    attempt: PublishAttempt
    check_first: bool  # an earlier attempt may have created the post
    quota_refused: QuotaExhausted | None = None  # the platform's daily quota can't cover this attempt's calls


async def _begin(session: AsyncSession, settings: Settings, post_id: uuid.UUID) -> _Run | PublishOutcome:
    post = await session.scalar(select(ScheduledPost).where(ScheduledPost.id == post_id).with_for_update())
    if post is None:
        return PublishOutcome(Result.ALREADY_DONE, post_id, "", reason="the post no longer exists")
    if post.status not in (PostStatus.SCHEDULED, PostStatus.PUBLISHING):
        return PublishOutcome(Result.ALREADY_DONE, post.id, post.platform)
    if post.scheduled_for > utcnow() + timedelta(seconds=1):
        return PublishOutcome(Result.NOT_DUE, post.id, post.platform)
    connection = await session.get(PlatformConnection, post.platform_connection_id)
    if connection is None or connection.status != ConnectionStatus.ACTIVE:
        post.status = PostStatus.HELD
        post.error_message = "the account needs to be connected again"
        return PublishOutcome(Result.HELD, post.id, post.platform, reason=post.error_message)
    previous = list(
        (await session.scalars(select(PublishAttempt).where(PublishAttempt.scheduled_post_id == post.id))).all()
    )
    draft = await session.get(GeneratedContent, post.generated_content_id) if post.generated_content_id else None
    marker = PostContent(text=parts_of(post)[0]).marker
    attempt = PublishAttempt(scheduled_post_id=post.id, attempt=len(previous) + 1, marker=marker)
    session.add(attempt)
    post.status = PostStatus.PUBLISHING
    check_first = any(a.outcome in (AttemptOutcome.SENT, AttemptOutcome.UNKNOWN) for a in previous)
    await session.flush()
    # Metered platforms (YouTube): the units this attempt will spend are taken with the attempt, before the call.
    refused = await quotas.reserve_publish(
        session, settings, post.platform, check_first=check_first, account=connection.platform_user_id
    )
    return _Run(post, connection, draft, attempt, check_first, refused)


async def publish_post(
    session: AsyncSession, settings: Settings, post_id: uuid.UUID, *, store: FileStore | None = None
) -> PublishOutcome:
    """One run of a due post's work unit: claim it, call the platform once (after checking for an earlier
    try's post), and record the outcome. Commits as it goes: the attempt is durable before the platform is
    called, and no transaction is open during the call. The caller commits what it adds after the outcome
    (the owner's message) with it. Database errors propagate (the unit retries the whole run)."""
    begun = await _begin(session, settings, post_id)
    await session.commit()
    if isinstance(begun, PublishOutcome):
        return begun
    run = begun
    parts = parts_of(run.post)
    posted = list((run.post.post_metadata or {}).get("posted_ids", []))
    found_any = False
    try:
        if run.quota_refused is not None:
            raise run.quota_refused
        client = client_for(settings, run.post.platform)
        media = await ready_media(session, settings, store, run.post)
        creds, refreshed = await _fresh_credentials(session, settings, run.connection, client)
        if refreshed:  # the new tokens are kept before they are used
            await session.commit()
        first: PublishedPost | None = None
        check_first = run.check_first
        for index, part in enumerate(parts):
            if index < len(posted):
                continue
            # A thread is one create per part, each replying to the one before; each part's id is committed
            # as soon as it exists, so a retry resumes after the last part posted instead of starting over.
            content = PostContent(
                text=part,
                title=run.draft.title if run.draft else None,
                tags=tuple(run.post.post_hashtags or ()),
                reply_to=posted[-1] if posted else None,
                pending=(run.post.post_metadata or {}).get("pending_handle") if check_first else None,
                **(media if index == 0 else {}),  # a thread's video or image opens it
            )
            found = await client.find_post(creds, content) if check_first else None
            check_first = False
            made = found or await client.publish(creds, content)
            found_any = found_any or found is not None
            first = first or (made if index == 0 else None)
            posted.append(made.post_id)
            # A new list each time: the ORM only writes JSONB it sees replaced by an unequal value.
            run.post.post_metadata = {**(run.post.post_metadata or {}), "posted_ids": list(posted)}
            if index < len(parts) - 1:  # the last part's id is committed with the outcome, just below
                await session.commit()
        published = first or PublishedPost(posted[0], client.post_url(posted[0]))
    except PlatformError as exc:
        return await _failed(session, settings, run, exc)
    except MediaError as exc:  # the prepared copy couldn't be made: retrying the same file won't help
        return await _failed(session, settings, run, ContentRejected(f"The clip couldn't be prepared: {exc}"))
    except (NotConfigured, NotConnected) as exc:
        run.attempt.outcome = AttemptOutcome.FAILED
        run.attempt.error = redact(str(exc))
        run.post.status = PostStatus.HELD
        run.post.error_message = exc.user_message
        return PublishOutcome(Result.HELD, run.post.id, run.post.platform, reason=exc.user_message)
    return await _published(session, run, published, reconciled=found_any)


OPEN = (PostStatus.SCHEDULED, PostStatus.PUBLISHING, PostStatus.HELD)


async def _finished_elsewhere(session: AsyncSession, run: _Run) -> bool:
    """Whether the post left `publishing` while this run called the platform (a platform webhook finished
    it). The row is locked until the caller commits, so the webhook's finish and this run's can't both win."""
    status = await session.scalar(select(ScheduledPost.status).where(ScheduledPost.id == run.post.id).with_for_update())
    return status != PostStatus.PUBLISHING


# Platforms that fetch the media themselves from a link (Instagram, Facebook; TikTok's pull-from-URL).
PULLS_MEDIA = frozenset({Platform.INSTAGRAM, Platform.FACEBOOK, Platform.TIKTOK})


async def ready_media(
    session: AsyncSession, settings: Settings, store: FileStore | None, post: ScheduledPost
) -> dict[str, Any]:
    """The post's media as `PostContent` fields, preparing the platform-ready copy first if the prepare unit
    hasn't (the copy is committed before the platform sees it). Platforms that fetch media get a signed,
    expiring link to the same file (`recast web`'s /media route, or a presigned S3 URL)."""
    media = PostMedia.from_json((post.post_metadata or {}).get("media"))
    if media is None:
        return {}
    if store is None:
        raise NotConfigured(detail="a post with media needs the media store")
    url = media.ready_url or await prepare_media(session, store, post)
    link = store.fetchable_url(url, expires_s=settings.media_link_ttl_s) if post.platform in PULLS_MEDIA else None
    return {"media": store.local_path(url), "media_kind": media.kind, "media_url": link}


async def prepare_media(session: AsyncSession, store: FileStore, post: ScheduledPost) -> str:
    """Make the post's platform-ready copy (once: an existing one is reused) and record it on the post."""
    media = PostMedia.from_json((post.post_metadata or {}).get("media"))
    assert media is not None
    if media.ready_url:
        return media.ready_url
    key = f"posts/{post.id}/{post.platform}.mp4"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "ready.mp4"
        await post_media.prepare(store.local_path(media.url), out, Platform(post.platform))
        url = store.put_path(out, key)
    prepared = PostMedia(media.url, media.kind, media.fixes, url)
    post.post_metadata = {**(post.post_metadata or {}), "media": prepared.to_json()}
    await session.commit()
    return url


def parts_of(post: ScheduledPost) -> list[str]:
    """What goes out, one create call per part: the thread's posts, or the one post."""
    parts = [str(p) for p in (post.post_metadata or {}).get("parts", []) if str(p).strip()]
    return parts or [post.post_caption or ""]


async def _fresh_credentials(
    session: AsyncSession, settings: Settings, connection: PlatformConnection, client: PlatformClient
) -> tuple[Credentials, bool]:
    """The connection's credentials, refreshed first if the token expires within minutes; and whether it was."""
    refresh_token = connections.refresh_token(settings, connection)
    refreshed = bool(refresh_token) and connections.expires_within(connection, REFRESH_AHEAD_S)
    if refresh_token and refreshed:
        tokens = await client.refresh(refresh_token)  # TokenRevoked when refused
        await connections.store_refreshed(session, settings, connection, tokens)
    connection.last_used_at = utcnow()  # written with the outcome
    return connections.credentials(settings, connection), refreshed


async def _published(session: AsyncSession, run: _Run, published: PublishedPost, *, reconciled: bool) -> PublishOutcome:
    run.attempt.outcome = AttemptOutcome.PUBLISHED
    run.attempt.platform_post_id = published.post_id
    run.attempt.finished_at = utcnow()
    if await _finished_elsewhere(session, run):  # the platform's webhook said so first, and the owner was told
        return PublishOutcome(Result.ALREADY_DONE, run.post.id, run.post.platform)
    mark_published(
        session,
        run.post,
        run.draft,
        published,
        organization_id=run.connection.organization_id,
        audit={"attempt": run.attempt.attempt, "found_after_unknown_outcome": reconciled},
    )
    return PublishOutcome(Result.PUBLISHED, run.post.id, run.post.platform, url=published.url)


def mark_published(
    session: AsyncSession,
    post: ScheduledPost,
    draft: GeneratedContent | None,
    published: PublishedPost,
    *,
    organization_id: uuid.UUID | None,
    audit: dict[str, Any],
) -> None:
    """The post (and its draft) published as `published`, audited. The caller holds the post's row lock and
    has checked it was still open (a worker's run, or a platform webhook)."""
    now = utcnow()
    post.status = PostStatus.PUBLISHED
    post.published_at = now
    post.platform_post_id = published.post_id
    post.platform_post_url = published.url
    post.error_message = None
    post.metrics_due_at = now + FIRST_COLLECTION  # analytics collection starts an hour after publishing
    if draft is not None:
        draft.is_published = True
        draft.published_at = now
    session.add(
        AuditLog(
            user_id=post.user_id,
            organization_id=organization_id,
            action="post.published",
            resource_type="scheduled_post",
            resource_id=post.id,
            metadata_={"platform": post.platform, "platform_post_id": published.post_id, **audit},
        )
    )


async def _failed(session: AsyncSession, settings: Settings, run: _Run, exc: PlatformError) -> PublishOutcome:
    run.attempt.finished_at = utcnow()
    run.attempt.error = redact(str(exc))[:2000]
    run.attempt.outcome = AttemptOutcome.UNKNOWN if isinstance(exc, OutcomeUnknown) else AttemptOutcome.FAILED
    post, platform = run.post, run.post.platform
    if isinstance(exc, OutcomeUnknown):  # what the platform called the request in flight, if anything
        post.post_metadata = {**(post.post_metadata or {}), "pending_handle": exc.handle}
    if await _finished_elsewhere(session, run):  # a platform webhook published or failed it meanwhile
        return PublishOutcome(Result.ALREADY_DONE, post.id, platform)
    if isinstance(exc, TokenRevoked):
        held = await connections.mark_broken(session, run.connection, ConnectionStatus.REVOKED, exc.user_message)
        return PublishOutcome(Result.HELD, post.id, platform, reason=exc.user_message, held_posts=len(held))
    if isinstance(exc, QuotaExhausted):
        # Not a failure and not a retry of the same moment: the post takes the next time the platform allows,
        # and its owner is told the new time.
        post.status = PostStatus.SCHEDULED
        post.scheduled_for = exc.until
        post.error_message = exc.user_message
        await add_publish_unit(session, post.id, exc.until, key=f"{post.id}:moved:{exc.until.isoformat()}")
        return PublishOutcome(Result.MOVED, post.id, platform, reason=exc.user_message, moved_to=exc.until)
    if isinstance(exc, VersionRetired):
        log.error(
            "%s retired the API version Recast sends (%s); set the platform's version setting to a current one. %s",
            label(platform),
            settings.linkedin_api_version,
            exc,
        )
        post.status = PostStatus.HELD
        post.error_message = exc.user_message
        return PublishOutcome(Result.HELD, post.id, platform, reason=exc.user_message)
    if exc.transient and run.attempt.attempt < settings.publish_max_attempts:
        delay = retry_delay(run.attempt.attempt, exc.retry_after, base_s=settings.publish_retry_base_s)
        post.status = PostStatus.SCHEDULED
        post.retry_count = run.attempt.attempt
        post.error_message = redact(str(exc))[:500]
        await add_publish_unit(
            session,
            post.id,
            utcnow() + timedelta(seconds=delay),
            key=f"{post.id}:retry{run.attempt.attempt}",
        )
        reason = exc.user_message if isinstance(exc, RateLimited) else None
        return PublishOutcome(Result.RETRY, post.id, platform, reason=reason, retry_in_s=delay)
    post.status = PostStatus.FAILED
    post.error_message = exc.user_message
    if isinstance(exc, OutcomeUnknown):
        post.error_message = (
            f"{label(platform)} never confirmed the post after {run.attempt.attempt} tries; check the account "
            "before posting it again."
        )
    return PublishOutcome(Result.FAILED, post.id, platform, reason=post.error_message)


async def attempts_of(session: AsyncSession, post_id: uuid.UUID) -> list[PublishAttempt]:
    rows = await session.scalars(
        select(PublishAttempt).where(PublishAttempt.scheduled_post_id == post_id).order_by(PublishAttempt.attempt)
    )
    return list(rows.all())


async def published_count(session: AsyncSession, post_id: uuid.UUID) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(PublishAttempt)
            .where(PublishAttempt.scheduled_post_id == post_id, PublishAttempt.outcome == AttemptOutcome.PUBLISHED)
        )
        or 0
    )
