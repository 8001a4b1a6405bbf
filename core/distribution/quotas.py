"""Daily API quotas per platform project, tracked in `platform_quota_usage` rather than guessed.

YouTube counts quota per Google Cloud project (our OAuth client), per Pacific-time day, reset at midnight
America/Los_Angeles. Its documented costs (developers.google.com/youtube/v3/determine_quota_cost) put
`videos.insert` in a bucket of its own (100 calls a day by default, 1 per call) and every other method we
call in the shared 10,000 units (`channels.list` and `playlistItems.list`: 1 unit each); older versions of
that page charged `videos.insert` 1,600 of the shared units. Projects granted more set `YOUTUBE_DAILY_UNITS`
/ `YOUTUBE_DAILY_UPLOADS`.

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


def publish_calls(platform: str, *, check_first: bool) -> list[str]:
    """The metered calls one publish makes: looking for an earlier attempt's video, then the upload."""
    if platform != Platform.YOUTUBE:
        return []
    found = ["youtube.channels.list", "youtube.playlistItems.list"] if check_first else []
    return [*found, "youtube.videos.insert"]


def _limits(settings: Settings) -> dict[str, tuple[str | None, int]]:
    """Bucket -> (project, daily limit)."""
    return {
        YOUTUBE_UNITS: (settings.google_client_id, settings.youtube_daily_units),
        YOUTUBE_UPLOADS: (settings.google_client_id, settings.youtube_daily_uploads),
    }


async def reserve_publish(
    session: AsyncSession, settings: Settings, platform: str, *, check_first: bool, now: datetime | None = None
) -> QuotaExhausted | None:
    """Reserve what one publish on `platform` will spend, all or nothing; the error to raise when the
    day's quota can't cover it (the post waits for the reset)."""
    calls = publish_calls(platform, check_first=check_first)
    if not calls:
        return None
    now = now or utcnow()
    need: dict[str, int] = {}
    for call in calls:
        need[COSTS[call].bucket] = need.get(COSTS[call].bucket, 0) + COSTS[call].units
    limits = _limits(settings)
    day = pacific_day(now)
    savepoint = await session.begin_nested()  # a refused bucket gives back what the others took
    for bucket, units in sorted(need.items()):
        project, limit = limits[bucket]
        if project is None:  # no Google app configured: the publish stops as not configured
            continue
        if await reserve(session, platform=bucket, project=project, units=units, limit=limit, day=day) is None:
            await savepoint.rollback()
            until = next_reset(now)
            detail = f"{bucket}: {units} more unit(s) would pass the day's {limit} for {project}"
            detail += f"; resets {until:%Y-%m-%d %H:%M} UTC"
            return QuotaExhausted(until, detail=detail)
    await savepoint.commit()
    return None


async def reserve_collection(
    session: AsyncSession, settings: Settings, platform: str, calls: int, *, now: datetime | None = None
) -> bool:
    """Take the units `calls` analytics calls on `platform` cost, but only out of the part of the day's
    budget publishing does not keep: `ANALYTICS_QUOTA_RESERVE_PERCENT` of it stays for publishing, so a
    collection run can never be the reason a video waits for tomorrow. False: deferred, nothing taken.
    Platforms without a metered ledger always pass."""
    if platform != Platform.YOUTUBE or calls <= 0:
        return True
    project, limit = _limits(settings)[YOUTUBE_UNITS]
    if project is None:
        return True
    allowed = limit * (100 - settings.analytics_quota_reserve_percent) // 100
    day = pacific_day(now or utcnow())
    taken = await reserve(session, platform=YOUTUBE_UNITS, project=project, units=calls, limit=allowed, day=day)
    return taken is not None
