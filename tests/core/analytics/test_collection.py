"""Published posts' figures are collected on the decaying schedule from the platforms' own analytics APIs
(LinkedIn's member post analytics, X's public metrics) over HTTP, written once per stage however runs
overlap or die, and summed into the draft's latest figures."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from decimal import Decimal

from pydantic import SecretStr
from sqlalchemy import func, select, update

from core.analytics import collection
from core.analytics.models import EngagementMetric
from core.common.clock import utcnow
from core.deps import CoreDeps
from core.distribution import publishing
from core.distribution.models import ConnectionStatus, PlatformConnection, ScheduledPost
from core.distribution.ports import PostInsights
from core.repurposing.models import GeneratedContent
from tests.distribution_fixtures import Creator, connect_linkedin, now
from tests.fakes.linkedin_api import FakeLinkedIn
from tests.fakes.x_api import FakeX


async def _published(deps: CoreDeps, who: Creator, connection: PlatformConnection, fmt: str = "linkedin_post"):  # type: ignore[no-untyped-def]
    async with deps.sessionmaker() as session:
        text = f"Show up every week. ({uuid.uuid4().hex[:8]})"
        draft = GeneratedContent(
            user_id=who.user_id,
            content_type="social_post",
            content_text=text,
            metadata_={"output_format": fmt, **({"tweets": [text]} if fmt == "twitter_thread" else {})},
        )
        session.add(draft)
        await session.flush()
        post, _ = await publishing.schedule(session, draft=draft, connection=connection, when=now(), timezone="UTC")
        await session.commit()
    async with deps.sessionmaker() as session:
        outcome = await publishing.publish_post(session, deps.settings, post.id)
        assert outcome.result == publishing.Result.PUBLISHED, outcome.reason
        await session.commit()  # the caller commits the outcome (the task does, with the owner's message)
    async with deps.sessionmaker() as session:
        row = await session.get(ScheduledPost, post.id)
        assert row is not None
        return row


async def _due_now(deps: CoreDeps, *post_ids: uuid.UUID) -> None:
    """As if the stage's time had come (the rows' own due time, not a clock in the code)."""
    async with deps.sessionmaker() as session:
        await session.execute(
            update(ScheduledPost)
            .where(ScheduledPost.id.in_(post_ids))
            .values(metrics_due_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()


async def _rows(deps: CoreDeps, draft_id: uuid.UUID) -> list[EngagementMetric]:
    async with deps.sessionmaker() as session:
        found = await session.scalars(
            select(EngagementMetric)
            .where(EngagementMetric.generated_content_id == draft_id)
            .order_by(EngagementMetric.collected_at)
        )
        return list(found.all())


async def test_a_published_post_is_collected_an_hour_later_then_on_the_decaying_schedule(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator
) -> None:
    connection = await connect_linkedin(publish_deps, linkedin, creator)
    post = await _published(publish_deps, creator, connection)
    assert post.published_at is not None and post.metrics_stage == 0
    assert post.metrics_due_at == post.published_at + collection.STAGES[0] == post.published_at + timedelta(hours=1)
    assert collection.STAGES[0] == publishing.FIRST_COLLECTION

    report = await collection.collect_due(publish_deps.sessionmaker, publish_deps.settings)
    assert report.claimed == 0 and await _rows(publish_deps, post.generated_content_id) == []  # not due yet

    linkedin.analytics[post.platform_post_id] = {
        "IMPRESSION": 1200,
        "MEMBERS_REACHED": 800,
        "REACTION": 45,
        "COMMENT": 9,
        "RESHARE": 6,
    }
    await _due_now(publish_deps, post.id)
    report = await collection.collect_due(publish_deps.sessionmaker, publish_deps.settings)
    assert (report.claimed, report.written) == (1, 1)
    [row] = await _rows(publish_deps, post.generated_content_id)
    assert (row.impressions, row.reach, row.likes, row.comments, row.shares) == (1200, 800, 45, 9, 6)
    assert row.engagement_rate == Decimal("5.00")  # (45 + 9 + 6) / 1200 = 5 %
    async with publish_deps.sessionmaker() as session:
        again = await session.get(ScheduledPost, post.id)
        draft = await session.get(GeneratedContent, post.generated_content_id)
    assert again is not None and again.metrics_stage == 1
    assert again.metrics_due_at == post.published_at + timedelta(hours=6)
    assert draft is not None and (draft.views, draft.likes, draft.comments, draft.shares) == (1200, 45, 9, 6)

    linkedin.analytics[post.platform_post_id] = {"IMPRESSION": 3000, "REACTION": 90, "COMMENT": 20, "RESHARE": 10}
    await _due_now(publish_deps, post.id)
    await collection.collect_due(publish_deps.sessionmaker, publish_deps.settings)
    first, second = await _rows(publish_deps, post.generated_content_id)
    assert second.impressions == 3000 and second.collected_at > first.collected_at
    async with publish_deps.sessionmaker() as session:
        draft = await session.get(GeneratedContent, post.generated_content_id)
    assert draft is not None and (draft.views, draft.likes, draft.engagement_rate) == (3000, 90, Decimal("4.00"))


async def test_overlapping_runs_write_a_stage_once(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator
) -> None:
    connection = await connect_linkedin(publish_deps, linkedin, creator)
    posts = [await _published(publish_deps, creator, connection) for _ in range(3)]
    await _due_now(publish_deps, *(p.id for p in posts))
    reports = await asyncio.gather(
        *(collection.collect_due(publish_deps.sessionmaker, publish_deps.settings) for _ in range(3))
    )
    assert sum(r.claimed for r in reports) == 3 and sum(r.written for r in reports) == 3
    for post in posts:
        assert len(await _rows(publish_deps, post.generated_content_id)) == 1


async def test_a_run_that_dies_after_claiming_gives_the_posts_back_when_its_lease_runs_out(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator
) -> None:
    connection = await connect_linkedin(publish_deps, linkedin, creator)
    post = await _published(publish_deps, creator, connection)
    await _due_now(publish_deps, post.id)
    [claimed] = await collection._claim(publish_deps.sessionmaker, 10)  # ...and the process is killed here
    assert claimed.post_id == post.id
    report = await collection.collect_due(publish_deps.sessionmaker, publish_deps.settings)
    assert report.claimed == 0  # leased to the dead run
    await _due_now(publish_deps, post.id)  # the lease ran out
    report = await collection.collect_due(publish_deps.sessionmaker, publish_deps.settings)
    assert report.written == 1 and len(await _rows(publish_deps, post.generated_content_id)) == 1


async def test_x_figures_come_in_one_lookup_and_a_deleted_post_stops_being_collected(
    publish_deps: CoreDeps, creator: Creator
) -> None:
    from tests.core.distribution.test_x_threads import _connect_x

    async with FakeX() as x:
        publish_deps.settings = publish_deps.settings.model_copy(
            update={
                "x_client_id": x.client_id,
                "x_client_secret": SecretStr(x.client_secret),
                "x_api_base": x.base_url,
                "x_authorize_url": f"{x.base_url}/i/oauth2/authorize",
            }
        )
        connection = await _connect_x(publish_deps, creator)
        kept = await _published(publish_deps, creator, connection, "twitter_thread")
        gone = await _published(publish_deps, creator, connection, "twitter_thread")
        x.metrics[str(kept.platform_post_id)] = {
            "impression_count": 500,
            "like_count": 20,
            "reply_count": 3,
            "retweet_count": 4,
            "quote_count": 1,
            "bookmark_count": 2,
        }
        x.tweets = [t for t in x.tweets if t["id"] != gone.platform_post_id]  # deleted on X
        await _due_now(publish_deps, kept.id, gone.id)
        report = await collection.collect_due(publish_deps.sessionmaker, publish_deps.settings)
        assert x.lookups == 1 and (report.written, report.finished) == (1, 1)
    [row] = await _rows(publish_deps, kept.generated_content_id)
    assert (row.impressions, row.likes, row.comments, row.shares, row.saves) == (500, 20, 3, 5, 2)
    assert row.engagement_rate == Decimal("6.00")  # (20 + 3 + 5 + 2) / 500
    assert await _rows(publish_deps, gone.generated_content_id) == []
    async with publish_deps.sessionmaker() as session:
        stopped = await session.get(ScheduledPost, gone.id)
    assert stopped is not None and stopped.metrics_due_at is None


async def test_a_revoked_account_is_not_asked_and_its_posts_wait(
    publish_deps: CoreDeps, linkedin: FakeLinkedIn, creator: Creator
) -> None:
    connection = await connect_linkedin(publish_deps, linkedin, creator)
    post = await _published(publish_deps, creator, connection)
    async with publish_deps.sessionmaker() as session:
        await session.execute(
            update(PlatformConnection)
            .where(PlatformConnection.id == connection.id)
            .values(status=ConnectionStatus.REVOKED)
        )
        await session.commit()
    await _due_now(publish_deps, post.id)
    calls = linkedin.analytics_calls
    report = await collection.collect_due(publish_deps.sessionmaker, publish_deps.settings)
    assert report.deferred == 1 and linkedin.analytics_calls == calls
    async with publish_deps.sessionmaker() as session:
        waiting = await session.get(ScheduledPost, post.id)
        count = await session.scalar(select(func.count()).select_from(EngagementMetric).where(
            EngagementMetric.generated_content_id == post.generated_content_id
        ))  # fmt: skip
    assert waiting is not None and waiting.metrics_stage == 0 and count == 0
    assert waiting.metrics_due_at is not None and waiting.metrics_due_at > utcnow() + timedelta(hours=5)


def test_engagement_rate_is_interactions_per_impression_or_per_view() -> None:
    assert collection.engagement_rate(PostInsights(impressions=200, likes=10, comments=5, shares=3, saves=2)) == 10
    assert collection.engagement_rate(PostInsights(views=50, likes=5)) == Decimal("10.00")
    assert collection.engagement_rate(PostInsights(likes=5)) is None  # nothing seen: no rate, not 0
