"""Operators see the bot work: one structured log line per update (through the Bot API stand-in and the
real dispatcher), and the notifier's HTTP session is closed, so no "Unclosed client session" at exit."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import warnings
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.filters import Command
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from fakes.telegram_api import FakeTelegram

from bots.telegram.app import make_dispatcher
from bots.telegram.middleware import CoreMiddleware
from bots.telegram.notifier import TelegramNotifier
from bots.telegram.update_log import install_update_log
from core.common.errors import RecastError
from core.notify.ports import ChatRef, OutgoingMessage, RecordingNotifier
from recast.commands import close_notifier

USER = 7300
LOGGER = "bots.telegram.update_log"


def update_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER]


@contextlib.asynccontextmanager
async def polling(dp: Dispatcher, bot: Bot) -> AsyncIterator[None]:
    task = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
    try:
        yield
    finally:
        await dp.stop_polling()
        await asyncio.gather(task, return_exceptions=True)


async def wait_for_lines(caplog: pytest.LogCaptureFixture, count: int) -> list[logging.LogRecord]:
    for _ in range(200):
        if len(update_lines(caplog)) >= count:
            break
        await asyncio.sleep(0.05)
    return update_lines(caplog)


async def test_the_bots_dispatcher_logs_one_line_per_update(live_deps, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    async with FakeTelegram() as tg:
        bot = Bot(tg.token, session=AiohttpSession(api=tg.api_server))
        live_deps.notifier = TelegramNotifier(bot)
        dp = make_dispatcher(live_deps, storage=MemoryStorage())
        update = tg.user_sends_command(USER, "help")
        async with polling(dp, bot):
            await tg.wait_for_message(USER, contains="Send me a long piece of content", timeout=10)
            [line] = await wait_for_lines(caplog, 1)

    assert line.levelno == logging.INFO
    assert (line.update_id, line.update_type, line.chat_id, line.outcome) == (  # type: ignore[attr-defined]
        update["update_id"],
        "message",
        USER,
        "handled",
    )
    duration = line.duration_ms  # type: ignore[attr-defined]
    assert isinstance(duration, int) and duration >= 0
    assert line.getMessage() == (
        f"telegram update={update['update_id']} type=message chat={USER} outcome=handled duration_ms={duration}"
    )


async def test_refused_failed_and_unhandled_updates_are_told_apart(live_deps, caplog: pytest.LogCaptureFixture) -> None:
    # Updates are handled concurrently: each needs its own connection (a pooled sessionmaker).
    core_deps = live_deps
    caplog.set_level(logging.INFO, logger=LOGGER)
    router = Router()

    @router.message(Command("ok"))
    async def ok(message: Message) -> None:
        await message.answer("fine")

    @router.message(Command("refuse"))
    async def refuse(message: Message) -> None:
        raise RecastError("You've used this month's uploads.")

    @router.message(Command("boom"))
    async def boom(message: Message) -> None:
        raise RuntimeError("a bug")

    @router.callback_query(F.data == "known")
    async def known(query: CallbackQuery) -> None:
        await query.answer()

    dp = Dispatcher(storage=MemoryStorage())
    install_update_log(dp)
    dp.message.outer_middleware(CoreMiddleware(core_deps))
    dp.include_router(router)
    async with FakeTelegram() as tg:
        bot = Bot(tg.token, session=AiohttpSession(api=tg.api_server))
        tg.add_chat(USER)
        button = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="?", callback_data="unknown")]])
        offered = await bot.send_message(USER, "pick", reply_markup=button)
        expected = {
            tg.user_sends_command(USER, "ok")["update_id"]: ("message", "handled"),
            tg.user_sends_command(USER, "refuse")["update_id"]: ("message", "refused"),
            tg.user_sends_command(USER, "boom")["update_id"]: ("message", "error"),
            tg.user_presses_button(USER, offered.message_id, "unknown")["update_id"]: ("callback_query", "unhandled"),
        }
        async with polling(dp, bot):
            lines = await wait_for_lines(caplog, len(expected))
            await tg.wait_for_message(USER, contains="Something went wrong", timeout=5)
        await bot.session.close()

    got = {r.update_id: (r.update_type, r.outcome) for r in lines}  # type: ignore[attr-defined]
    assert got == expected
    assert all(r.chat_id == USER for r in lines)  # type: ignore[attr-defined]


def unclosed_session_reports(caplog: pytest.LogCaptureFixture, caught: list[warnings.WarningMessage]) -> list[str]:
    gc.collect()
    found = [str(w.message) for w in caught if "Unclosed client session" in str(w.message)]
    return found + [r.getMessage() for r in caplog.records if "Unclosed client session" in r.getMessage()]


async def test_closing_the_notifier_leaves_no_unclosed_session(caplog: pytest.LogCaptureFixture) -> None:
    # Sessions an earlier test dropped are reported when the collector finds them: let it find them now,
    # so what is counted below is only this test's notifiers.
    gc.collect()
    caplog.clear()
    async with FakeTelegram() as tg:
        tg.add_chat(USER)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            closed = TelegramNotifier(Bot(tg.token, session=AiohttpSession(api=tg.api_server)))
            await closed.send(ChatRef("telegram", str(USER)), OutgoingMessage(text="bye"))
            await close_notifier(closed)  # what `recast worker` / `recast serve` do at shutdown
            del closed
            after_close = unclosed_session_reports(caplog, caught)

            # The same without close(): the check above would have seen it.
            left_open = TelegramNotifier(Bot(tg.token, session=AiohttpSession(api=tg.api_server)))
            await left_open.send(ChatRef("telegram", str(USER)), OutgoingMessage(text="bye again"))
            del left_open
            without_close = unclosed_session_reports(caplog, caught)

    assert after_close == []
    assert without_close
    await close_notifier(RecordingNotifier())  # a notifier without a session: nothing to close, no error
