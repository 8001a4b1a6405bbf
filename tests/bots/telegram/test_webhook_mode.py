"""Telegram webhook mode: secret verified, update stored before the 2xx, retries never handled twice."""

from __future__ import annotations

import json

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.fsm.storage.memory import MemoryStorage
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer
from fakes.telegram_api import FakeTelegram
from sqlalchemy import func, select

from bots.telegram.app import make_dispatcher
from bots.telegram.notifier import TelegramNotifier
from bots.telegram.webhook import SECRET_HEADER, mount_telegram_webhook
from core.inbox.models import GatewayEvent

SECRET = "s3cret-token"


async def test_webhook_checks_secret_stores_update_and_ignores_retries(live_deps):
    core_deps = live_deps
    async with FakeTelegram() as tg:
        bot = Bot(tg.token, session=AiohttpSession(api=tg.api_server))
        core_deps.notifier = TelegramNotifier(bot)
        dp = make_dispatcher(core_deps, storage=MemoryStorage())
        app = web.Application()
        mount_telegram_webhook(app, deps=core_deps, dp=dp, bot=bot, secret=SECRET)
        async with TestServer(app) as server, ClientSession() as http:
            url = str(server.make_url("/telegram/webhook"))
            update = tg.user_sends_command(7001, "help")
            body = json.dumps(update)
            wrong = await http.post(url, data=body, headers={SECRET_HEADER: "nope"})
            assert wrong.status == 401
            first = await http.post(url, data=body, headers={SECRET_HEADER: SECRET})
            retry = await http.post(url, data=body, headers={SECRET_HEADER: SECRET})
            malformed = await http.post(url, data=b"{not json", headers={SECRET_HEADER: SECRET})
            assert (first.status, retry.status, malformed.status) == (200, 200, 400)
            await tg.wait_for_message(7001, contains="Send me a long piece of content", timeout=10)
        await bot.session.close()

    async with core_deps.sessionmaker() as s:
        stored = await s.scalar(
            select(func.count())
            .select_from(GatewayEvent)
            .where(GatewayEvent.sender == "telegram", GatewayEvent.sender_event_id == str(update["update_id"]))
        )
    answers = [m for m in tg.messages_to(7001) if "Send me a long piece of content" in m.content]
    assert stored == 1
    assert len(answers) == 1
