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
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.common.clock import utcnow
from core.common.errors import RecastError
from core.config import Settings
from core.distribution import connections
from core.distribution.clients import client_for
from core.distribution.errors import (
    NotConfigured,
    NotConnected,
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
from core.pipeline.render import full_text
from core.repurposing.models import GeneratedContent
from core.storage.files import FileStore
from core.system.models import AuditLog
from core.work import submit as work

log = logging.getLogger(__name__)

PUBLISH = "distribution.publish_post"
REFRESH_AHEAD_S = 300.0
RETRY_BASE_S = 30.0
RETRY_CAP_S = 3600.0


class NotPublishable(RecastError):
    user_message = "This draft can't be published there."


class Result(StrEnum):
    PUBLISHED = "published"
    ALREADY_DONE = "already_done"  # published, cancelled or failed before this run
    NOT_DUE = "not_due"  # rescheduled later: the unit for the new time publishes it
    HELD = "held"
    RETRY = "retry"
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


def post_parts(draft: GeneratedContent, platform: str) -> list[str]:
    """One text per create call: an X thread's posts (as the writer numbered them), else the one post."""
    tweets = [str(t) for t in (draft.metadata_ or {}).get("tweets", []) if str(t).strip()]
    if Platform(platform) == Platform.X and tweets:
        return tweets
    return [full_text(draft)]  # the same text the Copy button gives


def check_publishable(platform: str, parts: list[str]) -> None:
    """Before scheduling: what the platform would refuse at publish time is refused now, with the reason."""
    rules = RULES[Platform(platform)]
    if not any(p.strip() for p in parts):
        raise NotPublishable("This draft is empty, so there is nothing to post.")
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
) -> tuple[ScheduledPost, uuid.UUID | None]:
    """Schedule the draft on the account at `when` (aware; stored as UTC). Returns the post and the new work
    unit to push after commit (None when this draft was already scheduled there: the first one stands)."""
    if connection.status != ConnectionStatus.ACTIVE:
        raise NotPublishable(f"The {label(connection.platform)} account needs to be connected again first (/connect).")
    parts = post_parts(draft, connection.platform)
    check_publishable(connection.platform, parts)
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
            post_metadata={"parts": parts},
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
    post = await session.get(ScheduledPost, post_id)
    assert post is not None
    return post, unit_id


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


async def _begin(session: AsyncSession, post_id: uuid.UUID) -> _Run | PublishOutcome:
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
    return _Run(post, connection, draft, attempt, check_first)


async def publish_post(
    session: AsyncSession, settings: Settings, post_id: uuid.UUID, *, store: FileStore | None = None
) -> PublishOutcome:
    """One run of a due post's work unit: claim it, call the platform once (after checking for an earlier
    try's post), and record the outcome. Commits as it goes: the attempt is durable before the platform is
    called, and no transaction is open during the call. The caller commits what it adds after the outcome
    (the owner's message) with it. Database errors propagate (the unit retries the whole run). `store`: where
    a clip draft's video is, which goes with the first part."""
    begun = await _begin(session, post_id)
    await session.commit()
    if isinstance(begun, PublishOutcome):
        return begun
    run = begun
    parts = parts_of(run.post)
    posted = list((run.post.post_metadata or {}).get("posted_ids", []))
    found_any = False
    try:
        client = client_for(settings, run.post.platform)
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
                reply_to=posted[-1] if posted else None,
                pending=(run.post.post_metadata or {}).get("pending_handle") if check_first else None,
                **(_media(run.draft, store) if index == 0 else {}),
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
    except (NotConfigured, NotConnected) as exc:
        run.attempt.outcome = AttemptOutcome.FAILED
        run.attempt.error = str(exc)
        run.post.status = PostStatus.HELD
        run.post.error_message = exc.user_message
        return PublishOutcome(Result.HELD, run.post.id, run.post.platform, reason=exc.user_message)
    return await _published(session, run, published, reconciled=found_any)


def _media(draft: GeneratedContent | None, store: FileStore | None) -> dict[str, Any]:
    """A clip draft's rendered video as a file on this machine (nothing without a store to find it in)."""
    if draft is None or store is None or not draft.file_url or draft.content_type != "short_video":
        return {}
    return {"media": store.local_path(draft.file_url), "media_kind": "video"}


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
    now = utcnow()
    run.attempt.outcome = AttemptOutcome.PUBLISHED
    run.attempt.platform_post_id = published.post_id
    run.attempt.finished_at = now
    run.post.status = PostStatus.PUBLISHED
    run.post.published_at = now
    run.post.platform_post_id = published.post_id
    run.post.platform_post_url = published.url
    run.post.error_message = None
    if run.draft is not None:
        run.draft.is_published = True
        run.draft.published_at = now
    session.add(
        AuditLog(
            user_id=run.post.user_id,
            organization_id=run.connection.organization_id,
            action="post.published",
            resource_type="scheduled_post",
            resource_id=run.post.id,
            metadata_={
                "platform": run.post.platform,
                "platform_post_id": published.post_id,
                "attempt": run.attempt.attempt,
                "found_after_unknown_outcome": reconciled,
            },
        )
    )
    return PublishOutcome(Result.PUBLISHED, run.post.id, run.post.platform, url=published.url)


async def _failed(session: AsyncSession, settings: Settings, run: _Run, exc: PlatformError) -> PublishOutcome:
    run.attempt.finished_at = utcnow()
    run.attempt.error = str(exc)[:2000]
    run.attempt.outcome = AttemptOutcome.UNKNOWN if isinstance(exc, OutcomeUnknown) else AttemptOutcome.FAILED
    post, platform = run.post, run.post.platform
    if isinstance(exc, OutcomeUnknown):  # what the platform called the request in flight, if anything
        post.post_metadata = {**(post.post_metadata or {}), "pending_handle": exc.handle}
    if isinstance(exc, TokenRevoked):
        held = await connections.mark_broken(session, run.connection, ConnectionStatus.REVOKED, exc.user_message)
        return PublishOutcome(Result.HELD, post.id, platform, reason=exc.user_message, held_posts=len(held))
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
    if isinstance(exc, QuotaExhausted):
        # Not a failure: the post moves to when the account's allowance is back, and its owner hears when.
        post.status = PostStatus.SCHEDULED
        post.scheduled_for = exc.until
        post.error_message = exc.user_message
        await add_publish_unit(session, post.id, exc.until, key=f"{post.id}:quota{run.attempt.attempt}")
        wait = max(0.0, (exc.until - utcnow()).total_seconds())
        return PublishOutcome(Result.RETRY, post.id, platform, reason=exc.user_message, retry_in_s=wait)
    if exc.transient and run.attempt.attempt < settings.publish_max_attempts:
        delay = retry_delay(run.attempt.attempt, exc.retry_after, base_s=settings.publish_retry_base_s)
        post.status = PostStatus.SCHEDULED
        post.retry_count = run.attempt.attempt
        post.error_message = str(exc)[:500]
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
