"""Telegram webhook mode: secret verified, update stored before the 2xx, retries never handled twice."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid

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


async def test_an_update_whose_process_died_mid_handling_is_handled_again_by_the_sweeper(live_deps):
    from datetime import timedelta

    from bots.telegram.webhook import MAX_ATTEMPTS, resume_stale_updates
    from core.common.clock import utcnow

    core_deps = live_deps
    run = uuid.uuid4().hex[:8]  # the stand-in numbers updates from 1 in every test
    async with FakeTelegram() as tg:
        bot = Bot(tg.token, session=AiohttpSession(api=tg.api_server))
        core_deps.notifier = TelegramNotifier(bot)
        dp = make_dispatcher(core_deps, storage=MemoryStorage())
        update = tg.user_sends_command(7002, "help")
        poison = tg.user_sends_command(7003, "help")
        async with core_deps.sessionmaker() as s:
            # Acknowledged to Telegram, then the web process died: stored as processing, its lease long gone.
            for upd, attempts in ((update, 1), (poison, MAX_ATTEMPTS)):
                s.add(
                    GatewayEvent(
                        sender="telegram",
                        sender_event_id=f"{upd['update_id']}-{run}",
                        event_type="message",
                        raw_body=json.dumps(upd).encode(),
                        headers={},
                        status="processing",
                        attempts=attempts,
                        processed_at=utcnow() - timedelta(minutes=5),
                    )
                )
            await s.commit()
        assert await resume_stale_updates(core_deps, dp, bot) == 1
        assert await resume_stale_updates(core_deps, dp, bot) == 0  # handled once, not again
        await tg.wait_for_message(7002, contains="Send me a long piece of content", timeout=10)
        await bot.session.close()
    async with core_deps.sessionmaker() as s:
        rows = {
            e.sender_event_id: e
            for e in (await s.scalars(select(GatewayEvent).where(GatewayEvent.sender == "telegram"))).all()
        }
    assert rows[f"{update['update_id']}-{run}"].status == "processed"
    assert rows[f"{poison['update_id']}-{run}"].status == "failed"  # a crash every time: given up, with the reason
    assert tg.messages_to(7003) == []


async def test_an_update_of_a_kind_aiogram_does_not_know_is_acknowledged_stored_and_skipped(live_deps, caplog):
    # Found by the update fuzzer: `Update.event_type` raises for such an update, so the webhook answered
    # 500 (and Telegram retries a 5xx over and over) and the update log failed in polling mode too.
    caplog.set_level(logging.INFO)
    async with FakeTelegram() as tg:
        bot = Bot(tg.token, session=AiohttpSession(api=tg.api_server))
        dp = make_dispatcher(live_deps, storage=MemoryStorage())
        app = web.Application()
        mount_telegram_webhook(app, deps=live_deps, dp=dp, bot=bot, secret=SECRET)
        update_id = 900_000_000 + uuid.uuid4().int % 10**8
        async with TestServer(app) as server, ClientSession() as http:
            url = str(server.make_url("/telegram/webhook"))
            for body in (
                {"update_id": update_id, "message_reaction": None},
                {"update_id": update_id + 1, "future_kind": {"a": 1}},
            ):
                answer = await http.post(url, data=json.dumps(body), headers={SECRET_HEADER: SECRET})
                assert answer.status == 200
            for _ in range(100):
                lines = [r for r in caplog.records if r.name == "bots.telegram.update_log" and r.update_id >= update_id]
                if len(lines) == 2:
                    break
                await asyncio.sleep(0.05)
        await bot.session.close()
    assert [(r.update_type, r.outcome) for r in lines] == [("unknown", "unhandled")] * 2
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    async with live_deps.sessionmaker() as s:
        rows = (
            await s.scalars(
                select(GatewayEvent).where(
                    GatewayEvent.sender == "telegram",
                    GatewayEvent.sender_event_id.in_([str(update_id), str(update_id + 1)]),
                )
            )
        ).all()
    assert sorted(r.event_type or "" for r in rows) == ["unknown", "unknown"]
