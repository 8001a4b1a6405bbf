"""A period's figures are the growth of the platforms' cumulative counters inside it, summed per platform
and owner; the nightly rollup writes them as daily/weekly/monthly snapshots for users, organizations and
client accounts (once however often it runs), and moves year-old snapshots to the archive. Figures are
checked against hand-computed values from the rows the test writes."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from core.accounts.models import ClientAccount, Organization, User
from core.analytics import snapshots
from core.analytics.figures import Scope, period_figures
from core.analytics.models import AnalyticsSnapshot, AnalyticsSnapshotArchive, EngagementMetric
from core.analytics.stats import change, week_start, week_stats
from core.content.models import ContentAsset
from core.deps import CoreDeps
from core.repurposing.models import GeneratedContent


def at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


async def _owner(deps: CoreDeps) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID, uuid.UUID]:
    """A user of an agency organization with one client account, and one source asset of that client."""
    async with deps.sessionmaker() as session:
        user = User(email=f"an-{uuid.uuid4().hex[:8]}@example.com", password_hash="!x", full_name="An")
        session.add(user)
        await session.flush()
        org = Organization(name="Agency", slug=f"agency-{uuid.uuid4().hex[:8]}", owner_id=user.id)
        session.add(org)
        await session.flush()
        client = ClientAccount(organization_id=org.id, name="Bakery", slug=f"bakery-{uuid.uuid4().hex[:6]}")
        session.add(client)
        await session.flush()
        asset = ContentAsset(
            user_id=user.id,
            organization_id=org.id,
            client_account_id=client.id,
            title="Sourdough talk",
            content_type="text",
            file_url="local:assets/talk.txt",
        )
        session.add(asset)
        await session.commit()
        return user.id, org.id, client.id, asset.id


async def _draft(deps: CoreDeps, user_id: uuid.UUID, asset_id: uuid.UUID | None, created: datetime) -> uuid.UUID:
    async with deps.sessionmaker() as session:
        draft = GeneratedContent(
            user_id=user_id, content_asset_id=asset_id, content_type="social_post", content_text="x", created_at=created
        )
        session.add(draft)
        await session.commit()
        return draft.id


async def _metric(deps: CoreDeps, draft: uuid.UUID, platform: str, when: datetime, **figures: int) -> None:
    async with deps.sessionmaker() as session:
        session.add(EngagementMetric(generated_content_id=draft, platform=platform, collected_at=when, **figures))
        await session.commit()


async def _snapshot(deps: CoreDeps, kind: str, day: date, **owner: uuid.UUID) -> AnalyticsSnapshot:
    async with deps.sessionmaker() as session:
        found = (
            await session.scalars(select(AnalyticsSnapshot).filter_by(snapshot_type=kind, snapshot_date=day, **owner))
        ).all()
        assert len(found) == 1, found
        return found[0]


async def test_the_nightly_rollup_writes_each_owners_gains_once_per_period(live_deps: CoreDeps) -> None:
    user, org, client, asset = await _owner(live_deps)
    post = await _draft(live_deps, user, asset, at("2026-11-20"))
    clip = await _draft(live_deps, user, asset, at("2026-11-29", 8))
    await _metric(live_deps, post, "linkedin", at("2026-11-22"), impressions=50)
    await _metric(live_deps, post, "linkedin", at("2026-11-24"), impressions=120, likes=10)
    await _metric(live_deps, post, "linkedin", at("2026-11-29"), impressions=200, likes=15, shares=5)
    await _metric(live_deps, clip, "instagram", at("2026-11-29", 20), views=900, reach=700, likes=40, saves=6)

    monday = date(2026, 11, 30)
    async with live_deps.sessionmaker() as session:
        await snapshots.roll_up(session, monday)
        await snapshots.roll_up(session, monday)  # a second run of the same night changes nothing
        await session.commit()

    daily = await _snapshot(live_deps, "daily", date(2026, 11, 29), user_id=user)
    # LinkedIn on the 29th: 200 - 120 views, (15 + 5) - 10 acts; Instagram: its first row, all of it.
    assert daily.platform_metrics == {
        "linkedin": {"views": 80, "reach": 0, "engagement": 10},
        "instagram": {"views": 900, "reach": 700, "engagement": 46},
    }
    assert (daily.total_views, daily.total_engagement, daily.total_reach) == (980, 56, 700)
    assert daily.total_content_created == 1  # the clip's draft; the post's was made on the 20th

    weekly = await _snapshot(live_deps, "weekly", date(2026, 11, 23), user_id=user)
    # The week from Mon 23rd: LinkedIn 200 - 50 (its newest row before the week) views, 20 acts.
    assert weekly.platform_metrics["linkedin"] == {"views": 150, "reach": 0, "engagement": 20}
    assert weekly.total_views == 150 + 900

    by_client = await _snapshot(live_deps, "weekly", date(2026, 11, 23), client_account_id=client)
    by_org = await _snapshot(live_deps, "weekly", date(2026, 11, 23), organization_id=org, client_account_id=None)  # type: ignore[arg-type]
    assert by_client.organization_id == org and by_client.total_views == by_org.total_views == 1050
    async with live_deps.sessionmaker() as session:
        monthly = await session.scalars(select(AnalyticsSnapshot).filter_by(user_id=user, snapshot_type="monthly"))
        assert monthly.all() == []  # the 30th is not the 1st


async def test_a_monthly_snapshot_is_written_on_the_first_for_the_month_before(live_deps: CoreDeps) -> None:
    user, _, _, asset = await _owner(live_deps)
    draft = await _draft(live_deps, user, asset, at("2026-10-01"))
    await _metric(live_deps, draft, "x", at("2026-10-03"), impressions=10, likes=1)
    await _metric(live_deps, draft, "x", at("2026-10-30"), impressions=60, likes=4, comments=2)
    async with live_deps.sessionmaker() as session:
        await snapshots.roll_up(session, date(2026, 11, 1))
        await session.commit()
    monthly = await _snapshot(live_deps, "monthly", date(2026, 10, 1), user_id=user)
    assert (monthly.total_views, monthly.total_engagement) == (60, 6)


async def test_snapshots_older_than_a_year_move_to_the_archive_and_nowhere_else(live_deps: CoreDeps) -> None:
    user, _, _, _ = await _owner(live_deps)
    today = date(2026, 12, 2)
    async with live_deps.sessionmaker() as session:
        old = AnalyticsSnapshot(
            user_id=user, snapshot_date=today - timedelta(days=400), snapshot_type="daily", total_views=7
        )
        recent = AnalyticsSnapshot(user_id=user, snapshot_date=today - timedelta(days=30), snapshot_type="daily")
        session.add_all([old, recent])
        await session.commit()
        moved = await snapshots.archive_old(session, today)
        await session.commit()
        assert moved >= 1
        live = (await session.scalars(select(AnalyticsSnapshot.id).filter_by(user_id=user))).all()
        archived = (await session.scalars(select(AnalyticsSnapshotArchive).filter_by(user_id=user))).all()
    assert live == [recent.id]
    assert [(a.id, a.total_views) for a in archived] == [(old.id, 7)]


async def test_this_week_is_compared_with_the_same_days_of_last_week_in_the_creators_timezone(
    live_deps: CoreDeps,
) -> None:
    user, _, _, asset = await _owner(live_deps)
    now = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)  # Wed 10:30 in Kolkata
    start = week_start(now, "Asia/Kolkata")
    assert start.isoformat() == "2026-11-30T00:00:00+05:30"
    draft = await _draft(live_deps, user, asset, at("2026-11-20"))
    await _metric(live_deps, draft, "linkedin", start - timedelta(days=6), impressions=100, likes=10)  # last week
    await _metric(live_deps, draft, "linkedin", start - timedelta(minutes=1), impressions=150, likes=12)
    await _metric(live_deps, draft, "linkedin", start + timedelta(days=1), impressions=400, likes=30, comments=5)
    # Last week's Thursday is after "the same time last week": not in the comparison.
    await _metric(live_deps, draft, "linkedin", start - timedelta(days=4), impressions=130, likes=11)
    async with live_deps.sessionmaker() as session:
        stats = await week_stats(session, user, "Asia/Kolkata", now=now)
        client_view = await period_figures(session, Scope.USER, user, start, now)
    assert (stats.this_week.total.views, stats.this_week.total.engagement) == (250, 23)
    assert (stats.last_week.total.views, stats.last_week.total.engagement) == (100, 10)
    assert change(250, 100) == "+150%" and change(0, 0) == "—" and change(5, 0) == "new" and change(50, 100) == "−50%"
    assert client_view.total.views == 250
