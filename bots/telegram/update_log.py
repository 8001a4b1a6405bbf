"""One structured log line per Telegram update, so operators see what the bot does.

    telegram update=812 type=message chat=5550001 outcome=handled duration_ms=43

The same facts ride on the record as ``extra`` fields (``update_id``, ``update_type``, ``chat_id``,
``outcome``, ``duration_ms``) for JSON log formatters. ``outcome`` is one of

* ``handled``: a handler took the update and finished;
* ``refused``: a handler turned it down with a friendly reply (a `RecastError`, e.g. over the plan's limit);
* ``unhandled``: no handler matched (an update type or content the bot does not act on);
* ``error``: a handler failed (the user was told "something went wrong"; the traceback is logged apart).

The duration runs from the moment the update reached the dispatcher, so it includes waiting for the
chat's previous update (`ordering`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware, Dispatcher
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import Chat, TelegramObject, Update
from aiogram.types.update import UpdateTypeLookupError

log = logging.getLogger(__name__)
REPORT_KEY = "update_report"
UNKNOWN_TYPE = "unknown"


def update_type_of(update: Update) -> str:
    """The update's kind, or "unknown" for one this aiogram has no field for (Telegram adds kinds; an
    update may carry only an empty one), where aiogram's `event_type` raises."""
    try:
        return update.event_type
    except UpdateTypeLookupError:
        return UNKNOWN_TYPE


@dataclass
class UpdateReport:
    """Handed to inner middlewares as ``data["update_report"]``: they record how the update ended when
    they catch what would otherwise look like success (see `CoreMiddleware`)."""

    outcome: str | None = None


class UpdateLogMiddleware(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        started = time.perf_counter()
        report = data[REPORT_KEY] = UpdateReport()
        outcome = "error"
        try:
            result = await handler(event, data)
            outcome = "unhandled" if result is UNHANDLED else report.outcome or "handled"
            return result
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000)
            chat: Chat | None = data.get("event_chat")
            update_id = event.update_id if isinstance(event, Update) else None
            update_type = update_type_of(event) if isinstance(event, Update) else type(event).__name__
            chat_id = chat.id if chat is not None else None
            log.info(
                "telegram update=%s type=%s chat=%s outcome=%s duration_ms=%d",
                update_id,
                update_type,
                chat_id,
                outcome,
                duration_ms,
                extra={
                    "update_id": update_id,
                    "update_type": update_type,
                    "chat_id": chat_id,
                    "outcome": outcome,
                    "duration_ms": duration_ms,
                },
            )


def install_update_log(dp: Dispatcher) -> UpdateLogMiddleware:
    """Register the log after aiogram's user context (which finds the chat) and before everything else
    of ours, so the line covers the whole handling of the update."""
    middleware = UpdateLogMiddleware()
    dp.update.outer_middleware.unregister(dp.fsm)
    dp.update.outer_middleware(middleware)
    dp.update.outer_middleware(dp.fsm)
    return middleware
