"""/roi and /seo: what an upload's drafts won for what the original cost, and a blog draft's on-page SEO."""

from __future__ import annotations

import tempfile
from pathlib import Path

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import FSInputFile, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bots.telegram.identity import current_user
from core.analytics import charts, roi, seo
from core.deps import CoreDeps

CAPTION_LIMIT = 1024  # Telegram's photo caption
NO_BLOG = "You have no blog draft yet. Send me a talk, article or video and I'll write one (with its SEO checks)."


def setup() -> Router:
    router = Router(name="analytics")

    @router.message(Command("roi"))
    async def roi_(message: Message, command: CommandObject, session: AsyncSession, deps: CoreDeps) -> None:
        user = await current_user(session, message.from_user)
        found = await roi.reply(session=session, settings=deps.settings, user_id=user.id, text=command.args or "")
        await session.commit()  # the row the answer describes is stored before it is shown
        if found.chart is None:  # the formula, or nothing measured yet: nothing to draw
            await message.answer(found.text)
            return
        data = found.chart
        with tempfile.TemporaryDirectory() as tmp:
            chart = charts.roi_chart(
                symbol=roi.SYMBOLS.get(data.currency, f"{data.currency} "),
                cost=float(data.cost),
                value=float(data.value),
                roi=float(data.roi) if data.roi is not None else None,
                labels=data.labels,
                engagement=data.engagement,
                path=Path(tmp) / "roi.png",
            )
            # The full text first (it is longer than a caption), then the chart with a one-line caption.
            await message.answer(found.text)
            caption = roi.chart_caption(data)
            if len(data.engagement) > charts.MAX_ROI_PIECES:
                caption += f" The chart shows the top {charts.MAX_ROI_PIECES}."
            await message.answer_photo(FSInputFile(chart), caption=caption[:CAPTION_LIMIT])

    @router.message(Command("seo"))
    async def seo_(message: Message, session: AsyncSession, deps: CoreDeps) -> None:
        user = await current_user(session, message.from_user)
        report = await seo.latest_blog_report(session=session, user_id=user.id, console=deps.providers.search_console)
        if report is None:
            await message.answer(NO_BLOG)
            return
        await session.commit()
        await message.answer(seo.describe(report))

    return router
