"""Every draft arrives: a send that Telegram fails for a transient reason (a 502) is retried by the
draft's delivery unit, never dropped, never sent twice, and "Done" counts only what was received; a send
Telegram refuses for good (the creator blocked the bot) ends the asset instead of leaving it hanging."""

from __future__ import annotations

import asyncio
import uuid

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from fakes.telegram_api import FakeTelegram
from sqlalchemy import func, select
from workers import running_worker

from bots.telegram.notifier import TelegramNotifier
from core.accounts import service as accounts
from core.content import service as content
from core.content.models import ContentAsset
from core.db.session import session_scope
from core.notify.ports import ChatRef
from core.pipeline.chat import bind_to_chat
from core.repurposing.models import GeneratedContent
from core.seed.service import apply_seed

TALK = " ".join(
    [
        "Consistency beats talent when you are building a personal brand on LinkedIn.",
        "Write for one person, not for everyone, and your engagement will double in six weeks.",
        "Turn every long video into ten small posts, because one idea deserves many formats.",
        "Reply to every comment in the first hour, because the algorithm rewards conversations.",
        "Why do most people quit? They measure followers instead of conversations.",
        "The secret is simple: show up every week, share what you learned, and be generous.",
    ]
    * 2
)


async def _asset(deps, chat: int) -> uuid.UUID:
    async with session_scope(deps.sessionmaker) as session:
        await apply_seed(session=session)
        reg = await accounts.register_chat_user(
            session=session, provider="telegram", external_user_id=str(chat), chat_id=str(chat), full_name="Ravi"
        )
        asset = await content.ingest_text(
            session=session, store=deps.store, user_id=reg.user.id, organization_id=reg.organization.id, text=TALK
        )
        bind_to_chat(asset, ChatRef("telegram", str(chat)), None)  # type: ignore[arg-type]  # no status message
    return asset.id


async def _wait_terminal(deps, asset_id: uuid.UUID, timeout: float = 120) -> str | None:
    status = None
    for _ in range(int(timeout * 5)):
        async with deps.sessionmaker() as session:
            status = await session.scalar(select(ContentAsset.upload_status).where(ContentAsset.id == asset_id))
        if status in ("completed", "failed"):
            return status
        await asyncio.sleep(0.2)
    return status


async def test_a_draft_whose_send_fails_with_a_502_is_retried_and_arrives_once(live_deps, run_id):
    chat = 6610001
    async with FakeTelegram(strict_chats=False) as tg:
        bot = Bot(tg.token, session=AiohttpSession(api=tg.api_server))
        live_deps.notifier = TelegramNotifier(bot)
        asset_id = await _asset(live_deps, chat)
        tg.fail_next(2, error_code=502, description="Bad Gateway", methods={"sendMessage"}, chat_id=chat)
        async with running_worker(live_deps, f"recast-test-delivery-{run_id}-{uuid.uuid4().hex[:6]}"):
            await live_deps.enqueue("pipeline.process_asset", asset_id=str(asset_id))
            status = await _wait_terminal(live_deps, asset_id)
        drafts = [m.content for m in tg.messages_to(chat) if m.content.startswith("📝")]
        await bot.session.close()
    async with live_deps.sessionmaker() as session:
        made = await session.scalar(
            select(func.count()).select_from(GeneratedContent).where(GeneratedContent.content_asset_id == asset_id)
        )
    assert status == "completed"
    assert made and len(drafts) == made and len(set(drafts)) == made  # all of them, each once


async def test_a_creator_who_blocked_the_bot_does_not_leave_the_upload_processing(live_deps, run_id):
    chat = 6610002
    async with FakeTelegram(strict_chats=False) as tg:
        bot = Bot(tg.token, session=AiohttpSession(api=tg.api_server))
        live_deps.notifier = TelegramNotifier(bot)
        asset_id = await _asset(live_deps, chat)
        tg.block_bot(chat)
        async with running_worker(live_deps, f"recast-test-delivery-{run_id}-{uuid.uuid4().hex[:6]}"):
            await live_deps.enqueue("pipeline.process_asset", asset_id=str(asset_id))
            status = await _wait_terminal(live_deps, asset_id)
        await bot.session.close()
    async with live_deps.sessionmaker() as session:
        drafts = (
            await session.scalars(select(GeneratedContent).where(GeneratedContent.content_asset_id == asset_id))
        ).all()
    assert status == "completed"  # ended: nothing can reach this chat, so nothing waits for it
    assert drafts and all((d.metadata_ or {}).get("delivery_failed") for d in drafts)
