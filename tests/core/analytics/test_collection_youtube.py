"""YouTube figures come from `videos.list?part=statistics` (one call and one quota unit per 50 videos) over
HTTP against the local Data API server; collection only spends the part of the day's units publishing does
not keep (ANALYTICS_QUOTA_RESERVE_PERCENT), so near the cap it defers and a publish still goes out."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from core.analytics import collection
from core.analytics.models import EngagementMetric
from core.common.clock import utcnow
from core.deps import CoreDeps
from core.distribution import publishing, quotas
from core.distribution.models import ScheduledPost
from tests.core.distribution.test_youtube import (  # the YouTube publishing tests' fixtures and flow
    _connect,
    _ledger,
    _make_video,
    _schedule_video,
    youtube,
    yt_deps,
)
from tests.distribution_fixtures import Creator, now
from tests.fakes.youtube_api import FakeYouTube

__all__ = ["youtube", "yt_deps"]


@pytest.fixture(scope="module")
def clip_mp4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _make_video(tmp_path_factory.mktemp("yt-stats") / "clip.mp4", "360x640", 1)


async def _publish(deps: CoreDeps, post_id: uuid.UUID) -> ScheduledPost:
    async with deps.sessionmaker() as session:
        outcome = await publishing.publish_post(session, deps.settings, post_id, store=deps.store)
        await session.commit()
        assert outcome.result == publishing.Result.PUBLISHED, outcome
        post = await session.get(ScheduledPost, post_id)
        assert post is not None and post.platform_post_id
        return post


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


async def _use_units(deps: CoreDeps, project: str, units: int) -> None:
    async with deps.sessionmaker() as session:
        day = quotas.pacific_day(now())
        assert await quotas.reserve(
            session, platform=quotas.YOUTUBE_UNITS, project=project, units=units, limit=10**9, day=day
        )
        await session.commit()


async def test_youtube_statistics_come_in_one_call_that_costs_one_unit_of_the_ledger(
    yt_deps: CoreDeps, youtube: FakeYouTube, creator: Creator, clip_mp4: Path
) -> None:
    connection = await _connect(yt_deps, creator)
    kept = await _publish(yt_deps, await _schedule_video(yt_deps, creator, connection, clip_mp4))
    gone = await _publish(yt_deps, await _schedule_video(yt_deps, creator, connection, clip_mp4))
    youtube.statistics[str(kept.platform_post_id)] = {"viewCount": "1200", "likeCount": "90", "commentCount": "6"}
    youtube.videos = [v for v in youtube.videos if v["id"] != gone.platform_post_id]  # deleted on YouTube
    units_before = await _ledger(yt_deps, quotas.YOUTUBE_UNITS, youtube.client_id)
    google_before = youtube.units_used  # (connecting read the channel: a unit not in our ledger)
    await _due_now(yt_deps, kept.id, gone.id)
    report = await collection.collect_due(yt_deps.sessionmaker, yt_deps.settings)
    assert youtube.requests.count(("GET", "/youtube/v3/videos")) == 1
    assert (report.written, report.finished, report.deferred) == (1, 1, 0)
    # The call's unit is in the ledger, and Google counted the same.
    assert await _ledger(yt_deps, quotas.YOUTUBE_UNITS, youtube.client_id) == units_before + 1
    assert youtube.units_used == google_before + 1
    [row] = await _rows(yt_deps, kept.generated_content_id)
    assert (row.views, row.likes, row.comments, row.shares) == (1200, 90, 6, None)
    assert await _rows(yt_deps, gone.generated_content_id) == []


async def test_near_the_daily_cap_collection_defers_and_a_publish_still_goes_out(
    yt_deps: CoreDeps, youtube: FakeYouTube, creator: Creator, clip_mp4: Path
) -> None:
    connection = await _connect(yt_deps, creator)
    live = await _publish(yt_deps, await _schedule_video(yt_deps, creator, connection, clip_mp4))
    youtube.statistics[str(live.platform_post_id)] = {"viewCount": "10"}
    # 10,000 units a day, 20 % kept for publishing: collection may use 8,000. 8,000 are gone already.
    used = await _ledger(yt_deps, quotas.YOUTUBE_UNITS, youtube.client_id)
    await _use_units(yt_deps, youtube.client_id, 8_000 - used)
    await _due_now(yt_deps, live.id)
    report = await collection.collect_due(yt_deps.sessionmaker, yt_deps.settings)
    assert (report.written, report.deferred) == (0, 1)
    assert ("GET", "/youtube/v3/videos") not in youtube.requests  # nothing was asked
    assert await _ledger(yt_deps, quotas.YOUTUBE_UNITS, youtube.client_id) == 8_000  # nothing was taken
    assert await _rows(yt_deps, live.generated_content_id) == []
    async with yt_deps.sessionmaker() as session:
        waiting = await session.get(ScheduledPost, live.id)
    assert waiting is not None and waiting.metrics_due_at == quotas.next_reset(now())
    # Publishing still has its reserve: the next video goes up.
    uploaded = len(youtube.videos)
    await _publish(yt_deps, await _schedule_video(yt_deps, creator, connection, clip_mp4))
    assert len(youtube.videos) == uploaded + 1


async def test_below_the_reserve_line_collection_goes_ahead(
    yt_deps: CoreDeps, youtube: FakeYouTube, creator: Creator, clip_mp4: Path
) -> None:
    connection = await _connect(yt_deps, creator)
    live = await _publish(yt_deps, await _schedule_video(yt_deps, creator, connection, clip_mp4))
    youtube.statistics[str(live.platform_post_id)] = {"viewCount": "10"}
    used = await _ledger(yt_deps, quotas.YOUTUBE_UNITS, youtube.client_id)
    await _use_units(yt_deps, youtube.client_id, 7_999 - used)  # one unit left for collection
    await _due_now(yt_deps, live.id)
    report = await collection.collect_due(yt_deps.sessionmaker, yt_deps.settings)
    assert (report.written, report.deferred) == (1, 0)
    assert await _ledger(yt_deps, quotas.YOUTUBE_UNITS, youtube.client_id) == 8_000
