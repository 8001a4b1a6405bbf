"""/stats: this week against last week, per platform, the week's top pieces, and a chart."""

from __future__ import annotations

import tempfile
from pathlib import Path

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import FSInputFile, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bots.telegram.identity import current_user
from core.analytics import charts, snapshots
from core.analytics import stats as weekly
from core.common.clock import utcnow
from core.deps import CoreDeps
from core.distribution.platforms.names import label

NO_FIGURES = (
    "No figures yet. Posts published through Recast (/connect an account, then approve a draft and tap "
    "Publish) report their views and engagement an hour after they go out, then for 30 days."
)
CAPTION_LIMIT = 1024  # Telegram's photo caption


def render(stats: weekly.WeekStats) -> str:
    now, before = stats.this_week, stats.last_week
    lines = [
        f"This week so far vs the same days last week ({stats.timezone}):",
        f"Views {now.total.views:,} ({weekly.change(now.total.views, before.total.views)}) · "
        f"Engagement {now.total.engagement:,} ({weekly.change(now.total.engagement, before.total.engagement)})",
    ]
    for platform in stats.platforms:
        a, b = now.by_platform.get(platform), before.by_platform.get(platform)
        views, acts = (a.views, a.engagement) if a else (0, 0)
        lines.append(
            f"• {label(platform)}: {views:,} views, {acts:,} engagements "
            f"({weekly.change(acts, b.engagement if b else 0)})"
        )
    if stats.top:
        lines.append("Top this week:")
        lines += [
            f"{n}. {t.title} — {label(t.platform)}, {t.engagement:,} engagements" + (f" {t.url}" if t.url else "")
            for n, t in enumerate(stats.top, 1)
        ]
    lines.append(
        f"From {now.posts_counted} post(s) with figures this week; engagement = likes + comments + shares + saves."
    )
    return "\n".join(lines)


async def stats(message: Message, session: AsyncSession, deps: CoreDeps) -> None:
    user = await current_user(session, message.from_user)
    timezone = user.timezone or "Asia/Kolkata"
    today = utcnow().date()
    cached = await snapshots.cached_summary(deps.redis, user.id, today)
    result = weekly.from_json(cached) if cached else await weekly.week_stats(session, user.id, timezone)
    if not result.has_figures:
        await message.answer(NO_FIGURES)
        return
    if cached is None:
        await snapshots.cache_summary(deps.redis, user.id, today, weekly.to_json(result))
    text = render(result)
    with tempfile.TemporaryDirectory() as tmp:
        chart = charts.week_chart(result, Path(tmp) / "week.png")
        if len(text) <= CAPTION_LIMIT:
            await message.answer_photo(FSInputFile(chart), caption=text)
        else:
            await message.answer(text)
            await message.answer_photo(FSInputFile(chart))


def setup() -> Router:
    router = Router(name="stats")
    router.message(Command("stats"))(stats)
    return router
