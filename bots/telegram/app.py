"""Build the Telegram bot and dispatcher from settings and core dependencies (no globals)."""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import BotCommand

from bots.telegram.commands import COMMANDS
from bots.telegram.flood import install_flood_control
from bots.telegram.middleware import CoreMiddleware
from bots.telegram.ordering import install_chat_order
from bots.telegram.paste import PasteBuffer, install_paste_buffer
from bots.telegram.routers import (
    account,
    analytics,
    billing,
    brand,
    connect,
    drafts,
    fallback,
    ingest,
    publish,
    start,
    stats,
    subscription,
    transcript,
)
from bots.telegram.update_log import install_update_log
from core.deps import CoreDeps
from core.limits.window import RateLimiter


def make_bot(token: str, *, api_server: str | None = None) -> Bot:
    """`api_server` points aiogram at a local Bot API server (which lifts the 20 MB download limit)."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_server)) if api_server else AiohttpSession()
    return Bot(token, session=session, default=DefaultBotProperties(link_preview_is_disabled=True))


def make_dispatcher(deps: CoreDeps, *, storage: BaseStorage | None = None) -> Dispatcher:
    dp = Dispatcher(storage=storage or RedisStorage(redis=deps.redis, state_ttl=86400, data_ttl=86400))
    install_update_log(dp)
    order = install_chat_order(dp)
    limiter = RateLimiter(deps.redis, namespace=deps.settings.rate_limit_namespace)
    install_flood_control(dp, limiter, deps.settings)
    install_paste_buffer(dp, PasteBuffer(deps, lock_for=order.lock_for, prefix=deps.settings.task_queue))
    middleware = CoreMiddleware(deps)
    dp.message.outer_middleware(middleware)
    dp.callback_query.outer_middleware(middleware)
    # Order matters: conversation steps (start, brand, drafts) before the catch-all ingest router.
    routers = [start.setup(), brand.setup(), drafts.setup(), transcript.setup(), account.setup(), billing.setup()]
    routers.append(subscription.setup())
    routers.append(connect.setup())
    routers.append(publish.setup())
    routers.append(stats.setup())
    routers.append(analytics.setup())
    routers.append(ingest.setup())
    routers.append(fallback.setup())  # last: whatever nothing else took still gets an answer
    dp.include_routers(*routers)
    return dp


async def set_commands(bot: Bot) -> None:
    await bot.set_my_commands([BotCommand(command=c, description=d) for c, d in COMMANDS])


__all__ = ["COMMANDS", "MemoryStorage", "make_bot", "make_dispatcher", "set_commands"]
