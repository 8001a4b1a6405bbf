"""Updates of one chat are handled in order; different chats still run side by side."""

from __future__ import annotations

import asyncio
import datetime as dt

from aiogram import Bot, Dispatcher, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Chat, Message, Update, User

from bots.telegram.ordering import install_chat_order


def _update(update_id: int, chat_id: int, text: str) -> Update:
    user = User(id=chat_id, is_bot=False, first_name="Asha")
    message = Message(
        message_id=update_id,
        date=dt.datetime.now(dt.UTC),
        chat=Chat(id=chat_id, type="private"),
        from_user=user,
        text=text,
    )
    return Update(update_id=update_id, message=message)


class Step(StatesGroup):
    second = State()


def _dispatcher(finished: list[str]) -> Dispatcher:
    dp = Dispatcher()
    install_chat_order(dp)
    router = Router()

    @router.message(Step.second)
    async def second_step(message: Message, state: FSMContext) -> None:
        await state.clear()
        finished.append(f"{message.chat.id}:{message.text}:second-step")

    @router.message()
    async def record(message: Message, state: FSMContext) -> None:
        if message.text == "slow":
            await asyncio.sleep(0.3)
        if message.text == "ask":
            await asyncio.sleep(0.1)
            await state.set_state(Step.second)
        finished.append(f"{message.chat.id}:{message.text}")

    dp.include_router(router)
    return dp


async def test_second_update_of_a_chat_waits_for_the_first_to_finish():
    finished: list[str] = []
    dp = _dispatcher(finished)
    bot = Bot("42:TEST")
    await asyncio.gather(dp.feed_update(bot, _update(1, 7, "slow")), dp.feed_update(bot, _update(2, 7, "fast")))
    assert finished == ["7:slow", "7:fast"]
    await bot.session.close()


async def test_updates_of_different_chats_are_not_serialised():
    finished: list[str] = []
    dp = _dispatcher(finished)
    bot = Bot("42:TEST")
    await asyncio.gather(dp.feed_update(bot, _update(1, 7, "slow")), dp.feed_update(bot, _update(2, 8, "fast")))
    assert finished == ["8:fast", "7:slow"]
    await bot.session.close()


async def test_the_next_update_sees_the_conversation_state_the_previous_one_set():
    finished: list[str] = []
    dp = _dispatcher(finished)
    bot = Bot("42:TEST")
    await asyncio.gather(dp.feed_update(bot, _update(1, 7, "ask")), dp.feed_update(bot, _update(2, 7, "answer")))
    assert finished == ["7:ask", "7:answer:second-step"]
    await bot.session.close()
