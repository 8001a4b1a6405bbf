"""Instagram media insights and Facebook Page post insights are collected over HTTP against the local Graph
API, in multiple-id reads (50 posts a call), with the current metric names (a feed post is never asked a
Reels metric); a deleted post stops being collected, an expired token and Meta's rate limits defer the
account's posts, and usage headers past the publishing reserve stop collection before the limit is met."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from core.analytics import collection
from core.analytics.models import EngagementMetric
from core.common.clock import utcnow
from core.deps import CoreDeps
from core.distribution.models import PlatformConnection, PostStatus, ScheduledPost
from core.distribution.platforms.names import Platform
from core.repurposing.models import GeneratedContent
from tests.distribution_fixtures import Creator, connect_meta
from tests.fakes.meta_graph_api import FakeMeta, GraphFault


async def _live(deps: CoreDeps, who: Creator, connection: PlatformConnection, platform_post_id: str) -> ScheduledPost:
    """A draft and the post the publisher wrote for it on the platform, due for its first collection."""
    async with deps.sessionmaker() as session:
        draft = GeneratedContent(
            user_id=who.user_id,
            content_type="short_video",
            content_text=f"Hooks in 60 seconds ({uuid.uuid4().hex[:8]})",
            metadata_={"output_format": "short_video"},
        )
        session.add(draft)
        await session.flush()
        published = utcnow() - timedelta(hours=2)
        post = ScheduledPost(
            generated_content_id=draft.id,
            platform_connection_id=connection.id,
            user_id=who.user_id,
            platform=connection.platform,
            scheduled_for=published,
            status=PostStatus.PUBLISHED,
            published_at=published,
            platform_post_id=platform_post_id,
            metrics_due_at=utcnow() - timedelta(seconds=1),
        )
        session.add(post)
        await session.commit()
        return post


async def _rows(deps: CoreDeps, draft_id: uuid.UUID | None) -> list[EngagementMetric]:
    async with deps.sessionmaker() as session:
        found = await session.scalars(
            select(EngagementMetric)
            .where(EngagementMetric.generated_content_id == draft_id)
            .order_by(EngagementMetric.collected_at)
        )
        return list(found.all())


async def _post(deps: CoreDeps, post_id: uuid.UUID) -> ScheduledPost:
    async with deps.sessionmaker() as session:
        row = await session.get(ScheduledPost, post_id)
        assert row is not None
        return row


async def _due_now(deps: CoreDeps, *post_ids: uuid.UUID) -> None:
    async with deps.sessionmaker() as session:
        await session.execute(
            update(ScheduledPost)
            .where(ScheduledPost.id.in_(post_ids))
            .values(metrics_due_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()


async def test_instagram_reels_and_feed_posts_are_collected_with_each_kinds_metrics_in_few_calls(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator
) -> None:
    connection = await connect_meta(meta_deps, meta, creator, Platform.INSTAGRAM)
    reel_id = meta.add_media("60 seconds on hooks #Reels", reel=True)
    photo_id = meta.add_media("Show up every week")
    gone_id = meta.add_media("deleted later")
    meta.ig_insights[reel_id] = {
        "views": 5000,
        "reach": 3100,
        "likes": 240,
        "comments": 31,
        "shares": 18,
        "saved": 11,
        "total_interactions": 300,
        "ig_reels_avg_watch_time": 7400,
        "ig_reels_video_view_total_time": 37_000_000,  # milliseconds
    }
    meta.ig_insights[photo_id] = {"views": 900, "reach": 640, "likes": 50, "comments": 4, "shares": 2, "saved": 9}
    reel = await _live(meta_deps, creator, connection, reel_id)
    photo = await _live(meta_deps, creator, connection, photo_id)
    gone = await _live(meta_deps, creator, connection, gone_id)
    meta.ig_media = [m for m in meta.ig_media if m["id"] != gone_id]  # deleted on Instagram

    report = await collection.collect_due(meta_deps.sessionmaker, meta_deps.settings)

    assert (report.claimed, report.written, report.finished, report.deferred) == (3, 2, 1, 0)
    [reel_row] = await _rows(meta_deps, reel.generated_content_id)
    assert (reel_row.views, reel_row.reach, reel_row.likes, reel_row.comments, reel_row.shares, reel_row.saves) == (
        5000,
        3100,
        240,
        31,
        18,
        11,
    )
    assert reel_row.watch_time == 37_000 and reel_row.impressions is None  # impressions are retired: unknown
    assert reel_row.engagement_rate == Decimal("6.00")  # (240 + 31 + 18 + 11) / 5000 views
    [photo_row] = await _rows(meta_deps, photo.generated_content_id)
    assert (photo_row.views, photo_row.likes, photo_row.saves, photo_row.watch_time) == (900, 50, 9, None)
    assert await _rows(meta_deps, gone.generated_content_id) == []
    assert (await _post(meta_deps, gone.id)).metrics_due_at is None  # stops being collected
    assert (await _post(meta_deps, reel.id)).metrics_stage == 1
    async with meta_deps.sessionmaker() as session:
        draft = await session.get(GeneratedContent, reel.generated_content_id)
    assert draft is not None and (draft.views, draft.likes, draft.comments, draft.shares) == (5000, 240, 31, 18)
    # One refused batch read (a deleted id fails Meta's whole multiple-id read), each id alone, then one
    # insights read per kind: the feed post was never asked a Reels metric.
    insight_reads = [fields for _, fields in meta.ids_reads if fields.startswith("insights")]
    assert len(insight_reads) == 2
    feed_read = next(f for ids, f in meta.ids_reads if ids == [photo_id] and f.startswith("insights"))
    assert "ig_reels_avg_watch_time" not in feed_read and "impressions" not in feed_read


async def test_instagram_insights_that_are_not_there_yet_fall_back_to_the_public_counts(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator
) -> None:
    connection = await connect_meta(meta_deps, meta, creator, Platform.INSTAGRAM)
    fresh = meta.add_media("just posted")
    meta.ig_public[fresh] = {"likes": 7, "comments": 2}  # Meta's insights lag: the insights edge is empty
    post = await _live(meta_deps, creator, connection, fresh)
    await collection.collect_due(meta_deps.sessionmaker, meta_deps.settings)
    [row] = await _rows(meta_deps, post.generated_content_id)
    assert (row.likes, row.comments) == (7, 2)
    assert row.views is None and row.reach is None and row.engagement_rate is None  # nothing seen: unknown


async def test_facebook_page_posts_are_collected_in_one_read_with_reactions_comments_shares_and_insights(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator
) -> None:
    connection = await connect_meta(meta_deps, meta, creator, Platform.FACEBOOK)
    shared = meta.add_page_post("Consistency beats talent.")
    quiet = meta.add_page_post("Show up every week.")
    meta.fb_insights[shared] = {
        "post_media_view": 2000,
        "post_total_media_view_unique": 1500,
        "post_clicks": 75,
        "reactions": 60,
        "comments": 12,
        "shares": 8,
    }
    meta.fb_insights[quiet] = {"post_media_view": 400, "reactions": 4}  # nobody shared: no `shares` field
    first = await _live(meta_deps, creator, connection, shared)
    second = await _live(meta_deps, creator, connection, quiet)

    report = await collection.collect_due(meta_deps.sessionmaker, meta_deps.settings)

    assert report.written == 2 and len(meta.ids_reads) == 1
    [ids, fields] = meta.ids_reads[0]
    assert sorted(ids) == sorted([shared, quiet]) and "post_impressions_unique" not in fields
    [row] = await _rows(meta_deps, first.generated_content_id)
    assert (row.views, row.reach, row.clicks, row.likes, row.comments, row.shares) == (2000, 1500, 75, 60, 12, 8)
    assert row.engagement_rate == Decimal("4.00")  # (60 + 12 + 8) / 2000
    [row] = await _rows(meta_deps, second.generated_content_id)
    assert (row.views, row.likes, row.comments, row.shares, row.reach) == (400, 4, 0, 0, None)


@pytest.mark.parametrize(
    ("fault", "wait_at_least"),
    [
        pytest.param(
            GraphFault("ids", code=190, subcode=463, message="Session has expired"), 5 * 3600, id="expired-190"
        ),
        pytest.param(GraphFault("ids", code=4, message="Application request limit reached"), 25 * 60, id="app-4"),
        pytest.param(GraphFault("ids", code=17, message="User request limit reached"), 25 * 60, id="user-17"),
        pytest.param(
            GraphFault("ids", code=32, regain_minutes=45, message="Page request limit"), 44 * 60, id="page-32"
        ),
        pytest.param(GraphFault("ids", code=613, message="Calls exceeded the rate limit"), 25 * 60, id="custom-613"),
    ],
)
async def test_an_expired_token_or_a_rate_limit_defers_the_accounts_posts_without_writing(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator, fault: GraphFault, wait_at_least: int
) -> None:
    connection = await connect_meta(meta_deps, meta, creator, Platform.FACEBOOK)
    post_id = meta.add_page_post(f"Post {uuid.uuid4().hex[:6]}")
    meta.fb_insights[post_id] = {"post_media_view": 10, "reactions": 1}
    post = await _live(meta_deps, creator, connection, post_id)
    meta.faults.append(fault)

    report = await collection.collect_due(meta_deps.sessionmaker, meta_deps.settings)

    assert (report.written, report.deferred) == (0, 1)
    assert await _rows(meta_deps, post.generated_content_id) == []
    waiting = await _post(meta_deps, post.id)
    assert waiting.metrics_stage == 0 and waiting.metrics_due_at is not None
    assert waiting.metrics_due_at > utcnow() + timedelta(seconds=wait_at_least)
    await _due_now(meta_deps, post.id)  # the wait is over: the same stage is collected once
    report = await collection.collect_due(meta_deps.sessionmaker, meta_deps.settings)
    assert report.written == 1 and len(await _rows(meta_deps, post.generated_content_id)) == 1


async def test_usage_headers_past_the_publishing_reserve_defer_collection_before_meta_throttles(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator
) -> None:
    assert meta_deps.settings.analytics_quota_reserve_percent == 20
    connection = await connect_meta(meta_deps, meta, creator, Platform.INSTAGRAM)
    media_id = meta.add_media("busy account")
    meta.ig_insights[media_id] = {"views": 100, "likes": 3}
    post = await _live(meta_deps, creator, connection, media_id)

    meta.page_usage = {"call_count": 85, "total_cputime": 10, "total_time": 12}  # 85 % of the budget used
    report = await collection.collect_due(meta_deps.sessionmaker, meta_deps.settings)
    assert (report.written, report.deferred) == (0, 1) and "RateLimited" in report.notes[0]
    assert len(meta.ids_reads) == 1  # stopped after the first answer said so: no insights read spent
    assert (await _post(meta_deps, post.id)).metrics_due_at > utcnow() + timedelta(minutes=55)  # type: ignore[operator]

    meta.page_usage = None
    meta.app_usage = {"call_count": 79, "total_cputime": 5, "total_time": 5}  # below the line: collect
    await _due_now(meta_deps, post.id)
    report = await collection.collect_due(meta_deps.sessionmaker, meta_deps.settings)
    assert report.written == 1


async def test_an_account_that_withdrew_the_insights_permission_is_parked_not_dropped(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator
) -> None:
    connection = await connect_meta(meta_deps, meta, creator, Platform.INSTAGRAM)
    media_id = meta.add_media("permission gone")
    meta.ig_insights[media_id] = {"views": 10}
    post = await _live(meta_deps, creator, connection, media_id)
    meta.granted.discard("instagram_manage_insights")  # removed in the account's business settings
    report = await collection.collect_due(meta_deps.sessionmaker, meta_deps.settings)
    assert (report.written, report.deferred, report.finished, report.parked) == (0, 0, 0, 1)
    assert len(report.messages) == 1  # the owner is told how to reconnect (test_collection_meta_permission)
    waiting = await _post(meta_deps, post.id)
    # Its stage is kept for when the account is reconnected; until then it is not asked for every 30 minutes.
    assert waiting.metrics_stage == 0 and waiting.metrics_due_at is None
