"""/roi and /seo: what an upload's drafts won for what the original cost, and a blog draft's on-page SEO."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bots.telegram.identity import current_user
from core.analytics import roi, seo
from core.deps import CoreDeps

NO_BLOG = "You have no blog draft yet. Send me a talk, article or video and I'll write one (with its SEO checks)."


def setup() -> Router:
    router = Router(name="analytics")

    @router.message(Command("roi"))
    async def roi_(message: Message, command: CommandObject, session: AsyncSession, deps: CoreDeps) -> None:
        user = await current_user(session, message.from_user)
        text = await roi.answer(session=session, settings=deps.settings, user_id=user.id, text=command.args or "")
        await session.commit()  # the row the answer describes is stored before it is shown
        await message.answer(text)

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
