"""Updates from one chat are handled one at a time, in the order Telegram sent them.

aiogram handles polled updates concurrently. A handler replies before its session commits (the
commit happens in `CoreMiddleware` once the handler returns), so without this a creator who sends
/start and then /plans quickly could be told "I don't know you yet": the second update would read
the database before the first one's rows were committed. Different chats still run in parallel.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Dispatcher
from aiogram.types import Chat, TelegramObject, User


class ChatOrderMiddleware(BaseMiddleware):
    def __init__(self) -> None:
        # Weak values: a chat's lock disappears once no update of that chat holds or waits on it.
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    def lock_for(self, key: int) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        chat: Chat | None = data.get("event_chat")
        user: User | None = data.get("event_from_user")
        key = chat.id if chat is not None else user.id if user is not None else None
        if key is None:
            return await handler(event, data)
        async with self.lock_for(key):
            return await handler(event, data)


def install_chat_order(dp: Dispatcher) -> ChatOrderMiddleware:
    """Put the per-chat lock after aiogram's user context (which finds the chat) and before its FSM
    middleware: conversation state must be read only once the previous update of the chat is done."""
    middleware = ChatOrderMiddleware()
    dp.update.outer_middleware.unregister(dp.fsm)
    dp.update.outer_middleware(middleware)
    dp.update.outer_middleware(dp.fsm)
    return middleware
