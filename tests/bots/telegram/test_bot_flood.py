"""Flood control through the real dispatcher and a local Bot API server: a user's flood of files and
messages, and a group's flood, get one "slow down" per window each and the rest is dropped before any
download, work unit or charge. Work units are stored for real (no worker runs them, so none finishes)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.fsm.storage.memory import MemoryStorage
from chat import onboard
from fakes.telegram_api import FakeTelegram
from floods import Figures, figures_for_user
from sqlalchemy import select
from test_bot_flow import TALK

from bots.telegram.app import make_dispatcher
from bots.telegram.notifier import TelegramNotifier
from core.accounts.models import ChatIdentity
from core.common.clock import utcnow
from core.seed.service import apply_seed
from tasks.worker import attach, make_queue

LOG = "bots.telegram.update_log"
USER, GROUP = 5770001, -1005770001


@contextlib.asynccontextmanager
async def bot_without_worker(deps, run_id: str) -> AsyncIterator[FakeTelegram]:
    queue = f"recast-flood-{run_id}-{uuid.uuid4().hex[:6]}"
    attach(deps, make_queue(deps, queue))  # deps.enqueue stores real work units; nothing runs them
    async with FakeTelegram() as tg:
        bot = Bot(tg.token, session=AiohttpSession(api=tg.api_server))
        deps.notifier = TelegramNotifier(bot)
        dp: Dispatcher = make_dispatcher(deps, storage=MemoryStorage())
        polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
        try:
            yield tg
        finally:
            await dp.stop_polling()
            await asyncio.gather(polling, return_exceptions=True)
            await bot.session.close()
            await deps.redis.delete(queue)


def outcomes(caplog: pytest.LogCaptureFixture, chat_id: int) -> list[str]:
    return [r.outcome for r in caplog.records if r.name == LOG and getattr(r, "chat_id", None) == chat_id]


async def wait_for_updates(caplog: pytest.LogCaptureFixture, chat_id: int, count: int) -> list[str]:
    for _ in range(1200):  # every update logs one line when its handling is over
        if len(outcomes(caplog, chat_id)) >= count:
            break
        await asyncio.sleep(0.05)
    return outcomes(caplog, chat_id)


async def test_a_users_flood_of_files_and_messages_is_dropped_uncharged(
    live_deps, run_id, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOG)
    since = utcnow()
    deps = live_deps
    deps.settings = deps.settings.model_copy(
        update={"flood_user_messages_per_minute": 12, "flood_user_uploads_per_hour": 2}
    )
    async with deps.sessionmaker() as session:
        await apply_seed(session=session)
        await session.commit()
    async with bot_without_worker(deps, run_id) as tg:
        await onboard(tg, USER)  # 2 messages of the 12
        for n in range(6):  # 6 files: messages 3-8, uploads 1-6 of 2
            tg.user_sends_document(USER, tg.add_file(TALK.encode()), file_name=f"talk{n}.txt", mime_type="text/plain")
        for _ in range(20):  # messages 9-12 pass, 16 dropped
            tg.user_sends_text(USER, "hello?")
        seen = await wait_for_updates(caplog, USER, 28)
        bot_texts = [m.content for m in tg.messages_to(USER)]
    async with deps.sessionmaker() as session:
        identity = await session.scalar(select(ChatIdentity).where(ChatIdentity.external_user_id == str(USER)))
        assert identity is not None
    figures = await figures_for_user(
        deps.sessionmaker,
        door="telegram (user: 6 files + 20 messages)",
        sent=26,
        refused=seen.count("limited"),
        user_id=identity.user_id,
        since=since,
        show=False,
    )
    # One line per door: the 6 files (updates 3-8) and the 20 messages after them (updates 9-28).
    files_refused, texts_refused = seen[2:8].count("limited"), seen[8:].count("limited")
    print(
        Figures(
            "telegram uploads (user: 6 files)",
            6,
            files_refused,
            6 - files_refused,
            figures.work_units,
            figures.uploads_charged,
            figures.credits_charged,
        ).line()
    )
    print(Figures("telegram messages (user: 20 after 8)", 20, texts_refused, 20 - texts_refused, 0, 0, 0).line())
    assert len(seen) == 28 and seen.count("limited") == 4 + 16
    slow_downs = [t for t in bot_texts if "slow down" in t]
    assert len(slow_downs) == 2, bot_texts  # one for the files' window, one for the messages' window
    assert "sending files" in slow_downs[0] and "try again in" in slow_downs[0] and "min" in slow_downs[0]
    assert "sending messages" in slow_downs[1] and " s:" in slow_downs[1]
    assert sum("Send me a video" in t for t in bot_texts) == 4  # the 4 admitted "hello?"s, nothing else
    # Two files became assets, each with its one work unit and one upload charged; the four refused
    # files were never downloaded, stored, queued or charged.
    assert (figures.work_units, figures.uploads_charged, figures.credits_charged) == (2, 2, 0)
    assert sum(c.method == "getFile" for c in tg.calls) == 2


async def test_a_groups_flood_is_limited_for_the_chat_as_a_whole(
    live_deps, run_id, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOG)
    deps = live_deps
    deps.settings = deps.settings.model_copy(update={"flood_chat_messages_per_minute": 10})
    async with bot_without_worker(deps, run_id) as tg:
        for n in range(15):  # three members, five messages each: under each one's own limit of 30
            tg.user_sends_text(USER + 10 + n % 3, f"message {n}", chat_id=GROUP)
        seen = await wait_for_updates(caplog, GROUP, 15)
        group_texts = [m.content for m in tg.messages_to(GROUP)]
    refused = seen.count("limited")
    print(Figures("telegram messages (group: 3 members, 15 messages)", 15, refused, 15 - refused, 0, 0, 0).line())
    assert len(seen) == 15 and refused == 5
    assert sum("slow down" in t for t in group_texts) == 1
