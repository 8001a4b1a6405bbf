"""TikTok figures come from `POST /v2/video/query/` (views, likes, comments, shares; 20 videos a call) over
HTTP against the local TikTok server, through the client that published the video; a 429 during
collection defers the account's posts by TikTok's Retry-After and leaves publishing alone."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select, update

from core.analytics import collection
from core.analytics.models import EngagementMetric
from core.common.clock import utcnow
from core.deps import CoreDeps
from core.distribution import publishing
from core.distribution.models import PlatformConnection, ScheduledPost
from core.repurposing.models import GeneratedContent
from tests.distribution_fixtures import Creator, clip_draft, connect_tiktok, now
from tests.fakes.tiktok_api import FakeTikTok, Fault


async def _published(deps: CoreDeps, who: Creator, connection: PlatformConnection, video: Path) -> ScheduledPost:
    draft_id = await clip_draft(deps, who, video)
    async with deps.sessionmaker() as session:
        draft = await session.get(GeneratedContent, draft_id)
        assert draft is not None
        post, _ = await publishing.schedule(
            session, draft=draft, connection=connection, when=now(), timezone="UTC", store=deps.store
        )
        await session.commit()
    async with deps.sessionmaker() as session:
        outcome = await publishing.publish_post(session, deps.settings, post.id, store=deps.store)
        await session.commit()
        assert outcome.result == publishing.Result.PUBLISHED, outcome
    async with deps.sessionmaker() as session:
        row = await session.get(ScheduledPost, post.id)
        assert row is not None and row.platform_post_id
        return row


async def _due_now(deps: CoreDeps, *post_ids: uuid.UUID) -> None:
    async with deps.sessionmaker() as session:
        await session.execute(
            update(ScheduledPost)
            .where(ScheduledPost.id.in_(post_ids))
            .values(metrics_due_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()


async def _rows(deps: CoreDeps, draft_id: uuid.UUID | None) -> list[EngagementMetric]:
    async with deps.sessionmaker() as session:
        found = await session.scalars(select(EngagementMetric).where(EngagementMetric.generated_content_id == draft_id))
        return list(found.all())


async def test_tiktok_figures_come_from_the_video_query_and_fill_the_drafts_latest_figures(
    tiktok_deps: CoreDeps, tiktok: FakeTikTok, creator: Creator, tiktok_video: Path
) -> None:
    connection = await connect_tiktok(tiktok_deps, tiktok, creator)
    post = await _published(tiktok_deps, creator, connection, tiktok_video)
    tiktok.counts[str(post.platform_post_id)] = {
        "view_count": 2000,
        "like_count": 150,
        "comment_count": 12,
        "share_count": 38,
    }
    await _due_now(tiktok_deps, post.id)
    report = await collection.collect_due(tiktok_deps.sessionmaker, tiktok_deps.settings)
    assert tiktok.requests.count(("POST", "/v2/video/query/")) == 1 and report.written == 1
    [row] = await _rows(tiktok_deps, post.generated_content_id)
    assert (row.views, row.likes, row.comments, row.shares) == (2000, 150, 12, 38)
    assert row.engagement_rate == Decimal("10.00")  # (150 + 12 + 38) / 2000 views
    async with tiktok_deps.sessionmaker() as session:
        draft = await session.get(GeneratedContent, post.generated_content_id)
    assert draft is not None and (draft.views, draft.likes, draft.shares) == (2000, 150, 38)


async def test_a_429_during_collection_defers_the_account_by_retry_after_and_publishing_goes_on(
    tiktok_deps: CoreDeps, tiktok: FakeTikTok, creator: Creator, tiktok_video: Path
) -> None:
    connection = await connect_tiktok(tiktok_deps, tiktok, creator)
    post = await _published(tiktok_deps, creator, connection, tiktok_video)
    tiktok.faults.append(Fault("query", status=429, code="rate_limit_exceeded", retry_after=120))
    await _due_now(tiktok_deps, post.id)
    before = utcnow()
    report = await collection.collect_due(tiktok_deps.sessionmaker, tiktok_deps.settings)
    assert (report.written, report.deferred) == (0, 1)
    assert await _rows(tiktok_deps, post.generated_content_id) == []
    async with tiktok_deps.sessionmaker() as session:
        waiting = await session.get(ScheduledPost, post.id)
    assert waiting is not None and waiting.metrics_due_at is not None
    assert waiting.metrics_due_at >= before + timedelta(seconds=120)
    await _published(tiktok_deps, creator, connection, tiktok_video)  # the next post still goes out
