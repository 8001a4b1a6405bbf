"""/status, /history, /usage."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bots.telegram.identity import current_user
from bots.telegram.progress import status_line
from core.billing import usage as billing_usage
from core.common.clock import local_time
from core.content import service as content
from core.deps import CoreDeps
from core.pipeline import progress
from core.repurposing import drafting


def setup() -> Router:
    router = Router(name="account")

    @router.message(Command("status"))
    async def status(message: Message, session: AsyncSession, deps: CoreDeps) -> None:
        user = await current_user(session, message.from_user)
        lines = [status_line(s) for s in await progress.recent_statuses(deps, session=session, user_id=user.id)]
        await message.answer("Your jobs\n" + "\n".join(lines) if lines else "No jobs yet — send me a video!")

    @router.message(Command("history"))
    async def history(message: Message, session: AsyncSession) -> None:
        user = await current_user(session, message.from_user)
        assets = await content.recent_assets(session=session, user_id=user.id, limit=10)
        if not assets:
            await message.answer("Nothing here yet. Send me a video, voice note, link or text.")
            return
        lines = []
        for n, asset in enumerate(assets, 1):  # numbered: "/stats 2" picks the second
            drafts = await drafting.drafts_for_asset(session=session, asset_id=asset.id)
            when = local_time(asset.created_at, user.timezone).strftime("%d %b %H:%M") if asset.created_at else ""
            lines.append(f"{n}. {when} · {asset.title[:50]} · {content.kind_label(asset)} · {len(drafts)} drafts")
        await message.answer(
            "Your recent uploads\n" + "\n".join(lines) + "\n\n/stats 1 shows how the first one's pieces did."
        )

    @router.message(Command("usage"))
    async def usage(message: Message, session: AsyncSession) -> None:
        user = await current_user(session, message.from_user)
        row = await billing_usage.current_usage(session=session, user_id=user.id)
        sub = await billing_usage.live_subscription(session=session, user_id=user.id)

        def fmt(used: int | None, limit: int | None) -> str:
            return f"{used or 0} of {limit}" if limit is not None else f"{used or 0} (no limit)"

        plan = f"{sub.status}" if sub else "no plan: the free monthly allowance"
        await message.answer(
            f"Usage {row.period_start:%d %b} – {row.period_end:%d %b} ({plan})\n"
            f"Uploads: {fmt(row.content_uploads, row.upload_limit)}\n"
            f"AI credits: {fmt(row.ai_credits_used, row.credit_limit)}\n"
            f"Storage: {(row.storage_used_bytes or 0) / 1024 / 1024:.1f} MB"
            + (f" of {(row.storage_limit_bytes or 0) / 1024**3:.0f} GB" if row.storage_limit_bytes else "")
            + "\n\nNeed more? /upgrade"
        )

    return router
