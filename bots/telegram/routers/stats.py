"""/stats: this week against last week, per platform, the week's top pieces, and a chart; /stats <source>:
how each piece one upload produced did; /report: a month's report as a PDF."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, FSInputFile, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bots.telegram.identity import current_user
from core.analytics import charts, snapshots, sources
from core.analytics import report as monthly
from core.analytics import stats as weekly
from core.analytics.figures import Scope
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


async def stats(message: Message, command: CommandObject, session: AsyncSession, deps: CoreDeps) -> None:
    user = await current_user(session, message.from_user)
    if command.args and command.args.strip():
        await source_stats(message, session, user.id, command.args)
        return
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


MAX_PIECES_LISTED = 15  # keeps the answer within one Telegram message (4,096 characters)
HOW_TO_PICK = (
    "Pick an upload by its place in /history (/stats 1 is the newest) or by words of its title, e.g. "
    "/stats sourdough. /stats on its own shows this week."
)


def render_source(found: sources.SourceStats) -> str:
    lines = [f"“{found.title}”: {found.drafts} draft(s), {len(found.published)} piece(s) published"]
    for n, piece in enumerate(found.pieces[:MAX_PIECES_LISTED], 1):
        where = label(piece.platform) if piece.platform else ""
        # "LinkedIn post" already says where; "social post" gets ", LinkedIn".
        head = f"{n}. {piece.title} — {piece.content_type}" + (
            f", {where}" if where and where.lower() not in piece.content_type.lower() else ""
        )
        if not piece.published:
            lines.append(f"{head}, not published")
            continue
        figures = (
            f"{piece.views:,} views, {piece.engagement:,} engagements"
            if piece.views is not None and piece.engagement is not None
            else "no figures yet"
        )
        lines.append(f"{head}, published: {figures}" + (f" {piece.url}" if piece.url else ""))
    if len(found.pieces) > MAX_PIECES_LISTED:
        lines.append(
            f"…and {len(found.pieces) - MAX_PIECES_LISTED} more piece(s) not listed here (the total counts them)."
        )
    if found.measured:
        lines.append(
            f"Total: {found.views:,} views, {found.engagement:,} engagements from {len(found.measured)} piece(s) "
            "with figures (latest counts; engagement = likes + comments + shares + saves)."
        )
    elif found.published:
        lines.append("No figures yet: they arrive an hour after a post goes out, then for 30 days.")
    return "\n".join(lines)


async def source_stats(message: Message, session: AsyncSession, user_id: uuid.UUID, query: str) -> None:
    asset = await sources.find_source(session, user_id, query)
    if asset is None:
        await message.answer(f"I found no upload matching “{query.strip()[:60]}”. {HOW_TO_PICK}")
        return
    found = await sources.source_stats(session, asset)
    text = render_source(found)
    measured = [(n, p) for n, p in enumerate(found.pieces[:MAX_PIECES_LISTED], 1) if p.engagement is not None]
    if not measured:
        await message.answer(text)
        return
    with tempfile.TemporaryDirectory() as tmp:
        chart = charts.pieces_chart(
            [f"{n}. {p.title}\n{label(p.platform) if p.platform else ''}" for n, p in measured],
            [p.engagement or 0 for _, p in measured],
            Path(tmp) / "source.png",
        )
        if len(text) <= CAPTION_LIMIT:
            await message.answer_photo(FSInputFile(chart), caption=text)
        else:
            await message.answer(text)
            await message.answer_photo(FSInputFile(chart))


async def report(message: Message, command: CommandObject, session: AsyncSession) -> None:
    user = await current_user(session, message.from_user)
    timezone = user.timezone or monthly.DEFAULT_TIMEZONE
    now = utcnow()
    if command.args and command.args.strip():
        month = monthly.parse_month(command.args)
        if month is None:
            await message.answer("Send /report for last month, or a month like /report 2026-11.")
            return
        if (month.year, month.month) >= (
            monthly.this_month(now, timezone).year,
            monthly.this_month(now, timezone).month,
        ):
            await message.answer(
                f"{month.name} isn't over yet. /report gives {monthly.last_full_month(now, timezone).name}."
            )
            return
    else:
        month = monthly.last_full_month(now, timezone)
    found = await monthly.build_report(
        session, Scope.USER, user.id, month, timezone=timezone, owner_name=user.full_name or "Your posts"
    )
    if not found.has_anything:
        await message.answer(
            f"Nothing to report for {found.month.name}: no post went out through Recast and none reported figures "
            "that month."
        )
        return
    pdf = monthly.render_pdf(found)
    await message.answer_document(
        BufferedInputFile(pdf, filename=found.filename), caption=monthly.summary(found)[:CAPTION_LIMIT]
    )


def setup() -> Router:
    router = Router(name="stats")
    router.message(Command("stats"))(stats)
    router.message(Command("report"))(report)
    return router
