"""Daily, weekly and monthly snapshots per user, organization and client account; the archive; the cache.

The nightly rollup writes each owner's snapshot of the period just ended in one set-based statement per
scope (the gains of `core.analytics.figures`, grouped by owner, with the per-platform breakdown as JSON)
and upserts on (owner, date, kind), so running a night twice changes nothing. Weekly snapshots are
written on Mondays for the week before (Monday to Sunday), monthly ones on the 1st for the month before;
periods are UTC days. Snapshots older than a year move to `analytics_snapshots_archive` in one statement.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.analytics.figures import Scope, gains_sql

SUMMARY_TTL_S = 600
ARCHIVE_AFTER = timedelta(days=365)

_OWNER_COLUMN = {Scope.USER: "user_id", Scope.ORGANIZATION: "organization_id", Scope.CLIENT: "client_account_id"}


@dataclass(frozen=True)
class Period:
    kind: str  # daily | weekly | monthly
    start: date  # inclusive
    end: date  # exclusive

    @property
    def start_at(self) -> datetime:
        return datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC)

    @property
    def end_at(self) -> datetime:
        return datetime(self.end.year, self.end.month, self.end.day, tzinfo=UTC)


def periods_ending(today: date) -> list[Period]:
    """The periods that ended at the start of `today` (UTC): yesterday, and last week on Mondays, and last
    month on the 1st."""
    periods = [Period("daily", today - timedelta(days=1), today)]
    if today.weekday() == 0:
        periods.append(Period("weekly", today - timedelta(days=7), today))
    if today.day == 1:
        previous = (today - timedelta(days=1)).replace(day=1)
        periods.append(Period("monthly", previous, today))
    return periods


def _rollup_sql(scope: Scope) -> str:
    column = _OWNER_COLUMN[scope]
    owner_columns = {"user_id": "NULL::uuid", "organization_id": "NULL::uuid", "client_account_id": "NULL::uuid"}
    owner_columns[column] = "t.owner"
    if scope == Scope.CLIENT:  # a client account's snapshot also names its organization
        owner_columns["organization_id"] = "(SELECT c.organization_id FROM client_accounts c WHERE c.id = t.owner)"
    return f"""
    WITH gains AS ({gains_sql(scope, one_owner=False)}),
    per_platform AS (
        SELECT owner, platform, sum(views) AS views, sum(reach) AS reach, sum(acts) AS acts
        FROM gains GROUP BY owner, platform
    ), totals AS (
        SELECT owner, sum(views) AS views, sum(reach) AS reach, sum(acts) AS acts,
               jsonb_object_agg(platform, jsonb_build_object('views', views, 'reach', reach, 'engagement', acts))
                   AS platforms
        FROM per_platform GROUP BY owner
    )
    INSERT INTO analytics_snapshots AS s
        (user_id, organization_id, client_account_id, snapshot_date, snapshot_type,
         total_views, total_reach, total_engagement, platform_metrics)
    SELECT {owner_columns["user_id"]}, {owner_columns["organization_id"]}, {owner_columns["client_account_id"]},
           :day, :kind, t.views, t.reach, t.acts, t.platforms
    FROM totals t
    ON CONFLICT (user_id, organization_id, client_account_id, snapshot_date, snapshot_type) DO UPDATE
    SET total_views = excluded.total_views, total_reach = excluded.total_reach,
        total_engagement = excluded.total_engagement, platform_metrics = excluded.platform_metrics
    """


_COUNTS_SQL = {
    Scope.USER: (
        "SELECT g.user_id AS owner, count(*) AS n FROM generated_content g "
        "WHERE g.created_at >= :start AND g.created_at < :end AND g.user_id IS NOT NULL GROUP BY 1",
        "SELECT g.user_id AS owner, count(*) AS n FROM scheduled_posts p JOIN generated_content g "
        "ON g.id = p.generated_content_id WHERE p.status = 'published' AND p.published_at >= :start "
        "AND p.published_at < :end AND g.user_id IS NOT NULL GROUP BY 1",
    ),
}


async def roll_up(session: AsyncSession, today: date) -> int:
    """Write the snapshots of the periods that ended at the start of `today`; returns rows written."""
    written = 0
    for period in periods_ending(today):
        params = {"start": period.start_at, "end": period.end_at, "day": period.start, "kind": period.kind}
        for scope in Scope:
            result = await session.execute(text(_rollup_sql(scope)), params)
            written += int(result.rowcount or 0)  # type: ignore[attr-defined]
        written += await _content_counts(session, params)
    return written


async def _content_counts(session: AsyncSession, params: dict[str, Any]) -> int:
    """Drafts created and posts published in the period, per user (a user with no figures gets a row too)."""
    created_sql, published_sql = _COUNTS_SQL[Scope.USER]
    written = 0
    for column, sql in (("total_content_created", created_sql), ("total_content_published", published_sql)):
        result = await session.execute(
            text(
                f"""
                WITH counts AS ({sql})
                INSERT INTO analytics_snapshots AS s (user_id, organization_id, client_account_id,
                    snapshot_date, snapshot_type, {column})
                SELECT owner, NULL::uuid, NULL::uuid, :day, :kind, n FROM counts
                ON CONFLICT (user_id, organization_id, client_account_id, snapshot_date, snapshot_type)
                DO UPDATE SET {column} = excluded.{column}
                """
            ),
            params,
        )
        written += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return written


async def archive_old(session: AsyncSession, today: date) -> int:
    """Move snapshots older than a year to the archive (one statement: nothing is in both or neither)."""
    result = await session.execute(
        text(
            """
            WITH moved AS (
                DELETE FROM analytics_snapshots WHERE snapshot_date < :cutoff RETURNING *
            )
            INSERT INTO analytics_snapshots_archive
                (id, user_id, organization_id, client_account_id, snapshot_date, snapshot_type,
                 total_content_created, total_content_published, total_views, total_engagement, total_reach,
                 platform_metrics, created_at)
            SELECT id, user_id, organization_id, client_account_id, snapshot_date, snapshot_type,
                   total_content_created, total_content_published, total_views, total_engagement, total_reach,
                   platform_metrics, created_at
            FROM moved
            ON CONFLICT DO NOTHING
            """
        ),
        {"cutoff": today - ARCHIVE_AFTER},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def summary_key(user_id: object, day: date) -> str:
    """The seed's cache key for a user's summary of a day."""
    return f"analytics:{user_id}:{day.isoformat()}:summary"


async def cached_summary(redis: Redis, user_id: object, day: date) -> dict[str, Any] | None:
    raw = await redis.get(summary_key(user_id, day))
    return json.loads(raw) if raw else None


async def cache_summary(redis: Redis, user_id: object, day: date, summary: dict[str, Any]) -> None:
    await redis.set(summary_key(user_id, day), json.dumps(summary), ex=SUMMARY_TTL_S)
