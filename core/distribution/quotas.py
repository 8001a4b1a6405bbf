"""Daily API quotas per platform project, tracked in `platform_quota_usage` rather than guessed.

YouTube counts quota per Google Cloud project (our OAuth client), per Pacific-time day, reset at midnight
America/Los_Angeles. Its documented costs (developers.google.com/youtube/v3/determine_quota_cost) put
`videos.insert` in a bucket of its own (100 calls a day by default, 1 per call) and every other method we
call in the shared 10,000 units (`channels.list` and `playlistItems.list`: 1 unit each); older versions of
that page charged `videos.insert` 1,600 of the shared units. Projects granted more set `YOUTUBE_DAILY_UNITS`
/ `YOUTUBE_DAILY_UPLOADS`.

Instagram and X are metered too, in the same ledger, so analytics can leave publishing its share:
- `instagram.calls`: Graph API calls per Instagram account and UTC day. Meta's Business Use Case limit for
  Instagram is 4,800 calls per 24 hours times the account's impressions, so `INSTAGRAM_DAILY_CALLS` (4,800,
  the floor for an account anyone saw) is a budget that is never too generous. The content-publishing limit
  (posts per rolling 24 hours) is Instagram's own count, read live before each post (`instagram.py`);
  analytics reads never spend it.
- `x.reads`: posts read per X app and calendar month (UTC): X's tiers cap the posts an app may read a month
  (`X_MONTHLY_READS`, 15,000 by default: Basic's), and each post a lookup returns counts.
Publishing is counted in these two but never refused by them (the platform itself refuses a publish past
its real limit, and that answer is what the post waits on); collection spends only up to
`100 - ANALYTICS_QUOTA_RESERVE_PERCENT` % of each and defers to the bucket's reset past that line.

Units are reserved before the call, in the transaction that records the attempt, by one conditional upsert:
two workers cannot both take the last units, and a call that was sent is counted even if its answer is lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.common.clock import utcnow
from core.config import Settings
from core.distribution.errors import QuotaExhausted
from core.distribution.models import PlatformQuotaUsage
from core.distribution.platforms.names import Platform

PACIFIC = ZoneInfo("America/Los_Angeles")

YOUTUBE_UNITS = "youtube"  # the ledger's `platform` for the shared units bucket
YOUTUBE_UPLOADS = "youtube.uploads"  # and for videos.insert's own bucket
INSTAGRAM_CALLS = "instagram.calls"  # Graph calls per Instagram account and UTC day
X_READS = "x.reads"  # posts read per X app and UTC month
# Counted for publishing, never a reason to refuse it (see the module docstring).
SOFT_BUCKETS = frozenset({INSTAGRAM_CALLS, X_READS})
UNLIMITED = 2**31 - 1


@dataclass(frozen=True)
class Cost:
    bucket: str
    units: int


# What each API call Recast makes costs, and from which bucket.
COSTS: dict[str, Cost] = {
    "youtube.videos.insert": Cost(YOUTUBE_UPLOADS, 1),
    "youtube.channels.list": Cost(YOUTUBE_UNITS, 1),
    "youtube.playlistItems.list": Cost(YOUTUBE_UNITS, 1),
    "youtube.videos.list": Cost(YOUTUBE_UNITS, 1),  # analytics collection: statistics of up to 50 videos
    # content_publishing_limit, the container, its status read (usually FINISHED at once), media_publish,
    # the permalink: five calls a typical post (Reels poll more, which Meta's usage headers then show).
    "instagram.publish": Cost(INSTAGRAM_CALLS, 5),
    "instagram.find_post": Cost(INSTAGRAM_CALLS, 1),
    "instagram.insights": Cost(INSTAGRAM_CALLS, 3),  # per 50 media: their kinds, then insights per kind
    "x.find_post": Cost(X_READS, 20),  # the account's 20 recent posts, read after an unknown outcome
    "x.lookup": Cost(X_READS, 1),  # per post a metrics lookup returns
}


def pacific_day(now: datetime) -> date:
    """The quota day an instant falls in."""
    return now.astimezone(PACIFIC).date()


def next_reset(now: datetime) -> datetime:
    """The next midnight in Pacific time after `now`, as UTC (07:00 or 08:00 UTC with DST)."""
    tomorrow = pacific_day(now) + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), tzinfo=PACIFIC).astimezone(UTC)


async def reserve(
    session: AsyncSession, *, platform: str, project: str, units: int, limit: int, day: date
) -> int | None:
    """Take `units` of the day's `limit`: the day's total after taking them, or None when fewer are left
    (nothing taken). One statement: concurrent reservations queue on the row and each sees the last total."""
    if units > limit:
        return None
    table = PlatformQuotaUsage.__table__
    insert = pg_insert(PlatformQuotaUsage).values(platform=platform, project=project, day=day, units=units)
    stmt = insert.on_conflict_do_update(
        index_elements=[table.c.platform, table.c.project, table.c.day],
        set_={"units": table.c.units + insert.excluded.units, "updated_at": func.now()},
        where=table.c.units + insert.excluded.units <= limit,
    ).returning(table.c.units)
    total = await session.scalar(stmt)
    return None if total is None else int(total)


async def used(session: AsyncSession, *, platform: str, project: str, day: date) -> int:
    total = await session.scalar(
        select(PlatformQuotaUsage.units).where(
            PlatformQuotaUsage.platform == platform,
            PlatformQuotaUsage.project == project,
            PlatformQuotaUsage.day == day,
        )
    )
    return int(total or 0)


def ledger_day(bucket: str, now: datetime) -> date:
    """The ledger row's `day` for a bucket: the Pacific day (YouTube), the UTC day (Instagram), the first
    of the UTC month (X)."""
    if bucket in (YOUTUBE_UNITS, YOUTUBE_UPLOADS):
        return pacific_day(now)
    today = now.astimezone(UTC).date()
    return today.replace(day=1) if bucket == X_READS else today


def reset_of(bucket: str, now: datetime) -> datetime:
    """When the bucket's current period ends."""
    if bucket in (YOUTUBE_UNITS, YOUTUBE_UPLOADS):
        return next_reset(now)
    start = ledger_day(bucket, now)
    if bucket == X_READS:
        start = (start + timedelta(days=32)).replace(day=1)
    else:
        start += timedelta(days=1)
    return datetime.combine(start, time(0), tzinfo=UTC)


def publish_calls(platform: str, *, check_first: bool) -> list[str]:
    """The metered calls one publish makes: looking for an earlier attempt's post, then the post."""
    if platform == Platform.YOUTUBE:
        found = ["youtube.channels.list", "youtube.playlistItems.list"] if check_first else []
        return [*found, "youtube.videos.insert"]
    if platform == Platform.INSTAGRAM:
        return [*(["instagram.find_post"] if check_first else []), "instagram.publish"]
    if platform == Platform.X:
        return ["x.find_post"] if check_first else []
    return []


def _limits(settings: Settings, account: str | None = None) -> dict[str, tuple[str | None, int]]:
    """Bucket -> (project, limit per period). Instagram's project is the account (`<ig-user>@<person>`:
    the Instagram account's part), X's and YouTube's the app."""
    return {
        YOUTUBE_UNITS: (settings.google_client_id, settings.youtube_daily_units),
        YOUTUBE_UPLOADS: (settings.google_client_id, settings.youtube_daily_uploads),
        INSTAGRAM_CALLS: (account.split("@", 1)[0] if account else None, settings.instagram_daily_calls),
        X_READS: (settings.x_client_id, settings.x_monthly_reads),
    }


async def reserve_publish(
    session: AsyncSession,
    settings: Settings,
    platform: str,
    *,
    check_first: bool,
    account: str | None = None,
    now: datetime | None = None,
) -> QuotaExhausted | None:
    """Reserve what one publish on `platform` (from `account`, the connection's platform user id) will
    spend, all or nothing; the error to raise when the day's quota can't cover it (the post waits for the
    reset). Soft buckets only count."""
    calls = publish_calls(platform, check_first=check_first)
    if not calls:
        return None
    now = now or utcnow()
    need: dict[str, int] = {}
    for call in calls:
        need[COSTS[call].bucket] = need.get(COSTS[call].bucket, 0) + COSTS[call].units
    limits = _limits(settings, account)
    savepoint = await session.begin_nested()  # a refused bucket gives back what the others took
    for bucket, units in sorted(need.items()):
        project, limit = limits[bucket]
        if project is None:  # no app configured: the publish stops as not configured
            continue
        limit = UNLIMITED if bucket in SOFT_BUCKETS else limit
        day = ledger_day(bucket, now)
        if await reserve(session, platform=bucket, project=project, units=units, limit=limit, day=day) is None:
            await savepoint.rollback()
            until = next_reset(now)
            detail = f"{bucket}: {units} more unit(s) would pass the day's {limit} for {project}"
            detail += f"; resets {until:%Y-%m-%d %H:%M} UTC"
            return QuotaExhausted(until, detail=detail)
    await savepoint.commit()
    return None


COLLECTION_BUCKETS: dict[str, str] = {
    Platform.YOUTUBE: YOUTUBE_UNITS,
    Platform.INSTAGRAM: INSTAGRAM_CALLS,
    Platform.X: X_READS,
}


async def reserve_collection(
    session: AsyncSession,
    settings: Settings,
    platform: str,
    units: int,
    *,
    account: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Take the `units` analytics calls on `platform` cost (YouTube units, Instagram calls, X posts read),
    but only out of the part of the period's budget publishing does not keep: `ANALYTICS_QUOTA_RESERVE_PERCENT`
    of it stays for publishing, so a collection run can never be the reason a post waits. False: deferred,
    nothing taken. Platforms without a metered ledger always pass."""
    bucket = COLLECTION_BUCKETS.get(platform)
    if bucket is None or units <= 0:
        return True
    project, limit = _limits(settings, account)[bucket]
    if project is None:
        return True
    allowed = limit * (100 - settings.analytics_quota_reserve_percent) // 100
    day = ledger_day(bucket, now or utcnow())
    taken = await reserve(session, platform=bucket, project=project, units=units, limit=allowed, day=day)
    return taken is not None


def collection_cost(platform: str, posts: int) -> int:
    """What collecting `posts` posts' figures of one account costs in the platform's bucket."""
    batches = -(-posts // 50)
    if platform == Platform.YOUTUBE:
        return batches * COSTS["youtube.videos.list"].units
    if platform == Platform.INSTAGRAM:
        return batches * COSTS["instagram.insights"].units
    if platform == Platform.X:
        return posts * COSTS["x.lookup"].units
    return 0
