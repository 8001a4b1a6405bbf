"""`/stats`: this week against last week for a creator, per platform, with the week's top pieces.

Weeks start on Monday 00:00 in the creator's timezone. "This week" runs to now; "last week" is the same
span one week earlier (Monday to the same weekday and time), so the two are compared like for like. Every
figure is a sum of `core.analytics.figures` gains, so each traces back to `engagement_metrics` rows.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.analytics.figures import Figures, PeriodFigures, Scope, period_figures
from core.common.clock import utcnow
from core.distribution.models import PostStatus, ScheduledPost
from core.repurposing.models import GeneratedContent


@dataclass(frozen=True)
class TopPiece:
    title: str
    platform: str
    views: int
    engagement: int
    url: str | None


@dataclass
class WeekStats:
    timezone: str
    this_week: PeriodFigures
    last_week: PeriodFigures
    top: list[TopPiece] = field(default_factory=list)

    @property
    def platforms(self) -> list[str]:
        return sorted(set(self.this_week.by_platform) | set(self.last_week.by_platform))

    @property
    def has_figures(self) -> bool:
        return bool(self.this_week.posts_counted or self.last_week.posts_counted)


def to_json(stats: WeekStats) -> dict[str, Any]:
    """What `/stats` shows, for the seed's `analytics:{user}:{date}:summary` cache."""

    def period(p: PeriodFigures) -> dict[str, Any]:
        return {
            "start": p.start.isoformat(),
            "end": p.end.isoformat(),
            "total": asdict(p.total),
            "by_platform": {k: asdict(v) for k, v in p.by_platform.items()},
            "posts": p.posts_counted,
        }

    return {
        "timezone": stats.timezone,
        "this_week": period(stats.this_week),
        "last_week": period(stats.last_week),
        "top": [asdict(t) for t in stats.top],
    }


def from_json(data: dict[str, Any]) -> WeekStats:
    def period(d: dict[str, Any]) -> PeriodFigures:
        figures = PeriodFigures(datetime.fromisoformat(d["start"]), datetime.fromisoformat(d["end"]))
        figures.total = Figures(**d["total"])
        figures.by_platform = {k: Figures(**v) for k, v in d["by_platform"].items()}
        figures.counted = int(d["posts"])
        return figures

    stats = WeekStats(data["timezone"], period(data["this_week"]), period(data["last_week"]))
    stats.top = [TopPiece(**t) for t in data["top"]]
    return stats


def week_start(now: datetime, timezone: str) -> datetime:
    local = now.astimezone(ZoneInfo(timezone))
    # Midnight local on Monday; zoneinfo gives that day's own offset (a DST change in the week is fine).
    return (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)


async def week_stats(
    session: AsyncSession,
    user_id: uuid.UUID,
    timezone: str,
    *,
    now: datetime | None = None,
    scope: Scope = Scope.USER,
    owner_id: uuid.UUID | None = None,
) -> WeekStats:
    now = now or utcnow()
    start = week_start(now, timezone)
    owner = owner_id or user_id
    this_week = await period_figures(session, scope, owner, start, now)
    last_week = await period_figures(session, scope, owner, start - timedelta(days=7), now - timedelta(days=7))
    stats = WeekStats(timezone, this_week, last_week)
    stats.top = await _top(session, this_week, 3)
    return stats


async def _top(session: AsyncSession, figures: PeriodFigures, n: int) -> list[TopPiece]:
    best = [p for p in figures.pieces if p.engagement or p.views][:n]
    if not best:
        return []
    drafts = {
        d.id: d
        for d in await session.scalars(
            select(GeneratedContent).where(GeneratedContent.id.in_([p.draft_id for p in best]))
        )
    }
    links = {
        (p.generated_content_id, p.platform): p.platform_post_url
        for p in await session.scalars(
            select(ScheduledPost).where(
                ScheduledPost.generated_content_id.in_([p.draft_id for p in best]),
                ScheduledPost.status == PostStatus.PUBLISHED,
            )
        )
    }
    return [
        TopPiece(
            title=_title(drafts.get(p.draft_id)),
            platform=p.platform,
            views=p.views,
            engagement=p.engagement,
            url=links.get((p.draft_id, p.platform)),
        )
        for p in best
    ]


def _title(draft: GeneratedContent | None) -> str:
    if draft is None:
        return "(deleted draft)"
    text = draft.title or (draft.content_text or "").split("\n", 1)[0]
    return text if len(text) <= 60 else text[:57].rstrip() + "…"


def change(now: int, before: int) -> str:
    """ "+25%" / "−10%" / "new" (nothing before) / "—" (nothing either week)."""
    if before == 0:
        return "new" if now else "—"
    pct = round((now - before) * 100 / before)
    return f"+{pct}%" if pct >= 0 else f"−{abs(pct)}%"


async def top_pieces(session: AsyncSession, figures: PeriodFigures, n: int) -> list[TopPiece]:
    """The period's `n` best pieces (engagement, then views) with their titles and links."""
    return await _top(session, figures, n)
