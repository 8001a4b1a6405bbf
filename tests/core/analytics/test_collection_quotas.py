"""Instagram's Graph call budget and X's monthly read cap live in the quota ledger next to YouTube's units:
publishing is counted there and never refused by them, collection spends only what publishing does not keep
(ANALYTICS_QUOTA_RESERVE_PERCENT) and defers to the bucket's reset past that line without a call; X's 429
defers to the end of its rate-limit window as `x-rate-limit-reset` gives it."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

from pydantic import SecretStr

from core.analytics import collection
from core.common.clock import utcnow
from core.deps import CoreDeps
from core.distribution import quotas
from core.distribution.models import PlatformConnection, ScheduledPost
from core.distribution.platforms.meta_graph import node_of
from core.distribution.platforms.names import Platform
from tests.core.analytics.test_collection import _published, _rows
from tests.core.analytics.test_collection_meta import _due_now, _live
from tests.distribution_fixtures import Creator, connect_meta
from tests.fakes.meta_graph_api import FakeMeta
from tests.fakes.x_api import FakeX


async def _ledger(deps: CoreDeps, bucket: str, project: str) -> int:
    async with deps.sessionmaker() as session:
        return await quotas.used(session, platform=bucket, project=project, day=quotas.ledger_day(bucket, utcnow()))


async def _spend(deps: CoreDeps, bucket: str, project: str, units: int) -> None:
    async with deps.sessionmaker() as session:
        day = quotas.ledger_day(bucket, utcnow())
        await quotas.reserve(session, platform=bucket, project=project, units=units, limit=10**9, day=day)
        await session.commit()


async def _due_at(deps: CoreDeps, post: ScheduledPost) -> datetime:
    async with deps.sessionmaker() as session:
        row = await session.get(ScheduledPost, post.id)
    assert row is not None and row.metrics_due_at is not None
    return row.metrics_due_at


async def test_instagram_collection_stops_at_the_reserve_line_and_publishing_is_still_counted(
    meta_deps: CoreDeps, meta: FakeMeta, creator: Creator
) -> None:
    meta.ig_user_id = f"1784{uuid.uuid4().int % 10**11}"  # an account of its own: the ledger is shared
    connection = await connect_meta(meta_deps, meta, creator, Platform.INSTAGRAM)
    account = node_of(connection.platform_user_id)
    assert account == meta.ig_user_id and await _ledger(meta_deps, quotas.INSTAGRAM_CALLS, account) == 0
    media_id = meta.add_media("near the budget")
    meta.ig_insights[media_id] = {"views": 300, "likes": 12}
    post = await _live(meta_deps, creator, connection, media_id)
    # 4,800 calls a day, 20 % kept for publishing: collection may use 3,840; 3,838 are gone (a batch costs 3).
    await _spend(meta_deps, quotas.INSTAGRAM_CALLS, account, 3_838)

    report = await collection.collect_due(meta_deps.sessionmaker, meta_deps.settings)

    assert (report.written, report.deferred) == (0, 1) and meta.ids_reads == []  # nothing was asked
    assert await _ledger(meta_deps, quotas.INSTAGRAM_CALLS, account) == 3_838  # nothing was taken
    tomorrow = (utcnow() + timedelta(days=1)).date()
    assert await _due_at(meta_deps, post) == datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=UTC)
    async with meta_deps.sessionmaker() as session:  # a publish on the same account: counted, not refused
        refused = await quotas.reserve_publish(
            session, meta_deps.settings, Platform.INSTAGRAM, check_first=True, account=connection.platform_user_id
        )
        await session.commit()
    assert refused is None and await _ledger(meta_deps, quotas.INSTAGRAM_CALLS, account) == 3_838 + 6

    await _spend(meta_deps, quotas.INSTAGRAM_CALLS, account, -3_000)  # a quieter day: room below the line
    await _due_now(meta_deps, post.id)
    report = await collection.collect_due(meta_deps.sessionmaker, meta_deps.settings)
    assert report.written == 1 and await _ledger(meta_deps, quotas.INSTAGRAM_CALLS, account) == 844 + 3


async def _x_deps(deps: CoreDeps, x: FakeX) -> CoreDeps:
    deps.settings = deps.settings.model_copy(
        update={
            "x_client_id": x.client_id,
            "x_client_secret": SecretStr(x.client_secret),
            "x_api_base": x.base_url,
            "x_authorize_url": f"{x.base_url}/i/oauth2/authorize",
            "x_monthly_reads": 1_000,
        }
    )
    return deps


async def test_x_collection_reads_count_against_the_monthly_cap_and_defer_to_next_month_past_the_line(
    publish_deps: CoreDeps, creator: Creator
) -> None:
    from tests.core.distribution.test_x_threads import _connect_x

    async with FakeX() as x:
        deps = await _x_deps(publish_deps, x)
        connection: PlatformConnection = await _connect_x(deps, creator)
        first = await _published(deps, creator, connection, "twitter_thread")
        second = await _published(deps, creator, connection, "twitter_thread")
        before = await _ledger(deps, quotas.X_READS, x.client_id)
        await _due_now(deps, first.id, second.id)
        report = await collection.collect_due(deps.sessionmaker, deps.settings)
        assert report.written == 2 and await _ledger(deps, quotas.X_READS, x.client_id) == before + 2

        # 1,000 reads a month, 800 for collection: one read left, two posts due.
        await _spend(deps, quotas.X_READS, x.client_id, 799 - (before + 2))
        lookups = x.lookups
        await _due_now(deps, first.id, second.id)
        report = await collection.collect_due(deps.sessionmaker, deps.settings)
        assert (report.written, report.deferred) == (0, 2) and x.lookups == lookups
        assert await _ledger(deps, quotas.X_READS, x.client_id) == 799
        month = utcnow().date().replace(day=1)
        following = (month + timedelta(days=32)).replace(day=1)
        assert await _due_at(deps, first) == datetime(following.year, following.month, 1, tzinfo=UTC)


async def test_an_x_429_defers_to_the_end_of_the_rate_limit_window(publish_deps: CoreDeps, creator: Creator) -> None:
    from tests.core.distribution.test_x_threads import _connect_x

    async with FakeX() as x:
        deps = await _x_deps(publish_deps, x)
        connection = await _connect_x(deps, creator)
        post = await _published(deps, creator, connection, "twitter_thread")
        x.lookup_window_reset = int(time.time()) + 600
        await _due_now(deps, post.id)
        report = await collection.collect_due(deps.sessionmaker, deps.settings)
        assert (report.written, report.deferred) == (0, 1) and "RateLimited" in report.notes[0]
        due = await _due_at(deps, post)
        reset = datetime.fromtimestamp(x.lookup_window_reset, UTC)
        assert reset - timedelta(seconds=5) <= due <= reset + timedelta(seconds=5)  # not the 30-minute default
        assert await _rows(deps, post.generated_content_id) == []


async def test_the_ledgers_periods_reset_at_their_own_boundaries() -> None:
    late = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert quotas.reset_of(quotas.INSTAGRAM_CALLS, late) == datetime(2027, 1, 1, tzinfo=UTC)
    assert quotas.reset_of(quotas.X_READS, datetime(2026, 2, 10, tzinfo=UTC)) == datetime(2026, 3, 1, tzinfo=UTC)
    assert quotas.ledger_day(quotas.X_READS, late).isoformat() == "2026-12-01"
    assert quotas.reset_of(quotas.YOUTUBE_UNITS, late) == quotas.next_reset(late)  # midnight Pacific
    assert quotas.collection_cost(Platform.INSTAGRAM, 51) == 6 and quotas.collection_cost(Platform.X, 7) == 7
