"""Flood control for Telegram: per-user and per-chat limits (`core.limits`) before any work.

An update over a limit is dropped before a database session, a download or a task exists: nothing is
queued and nothing is charged. The first refused update of a window gets one "slow down, try again in
N s" answer; the rest of the flood gets no answer at all (answering each would be a flood of our own).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Dispatcher
from aiogram.types import Chat, TelegramObject, Update, User

from bots.telegram.update_log import REPORT_KEY, UpdateReport
from core.config import Settings
from core.limits.chat import ChatRules
from core.limits.window import RateLimiter, Rule, Verdict, slow_down

log = logging.getLogger(__name__)


def _is_upload(update: Update) -> bool:
    m = update.message
    return m is not None and any((m.video, m.video_note, m.voice, m.audio, m.document, m.photo))


class FloodMiddleware(BaseMiddleware):
    def __init__(self, limiter: RateLimiter, settings: Settings) -> None:
        self.limiter = limiter
        self.rules = ChatRules.from_settings(settings)

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Update) or (event.message is None and event.callback_query is None):
            return await handler(event, data)
        user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        if user is None or user.is_bot:
            return await handler(event, data)
        refusal = await self._refusal(event, user, chat)
        if refusal is None:
            return await handler(event, data)
        verdict, rule = refusal
        report = data.get(REPORT_KEY)
        if isinstance(report, UpdateReport):
            report.outcome = "limited"
        if verdict.first_refusal:
            await _answer(
                event, slow_down(verdict.retry_after_s, what="files" if rule is self.rules.user_uploads else "messages")
            )
        return None

    async def _refusal(self, update: Update, user: User, chat: Chat | None) -> tuple[Verdict, Rule] | None:
        """The refusal for this update and the rule it broke, or None when every limit lets it through."""
        checks = [(f"tg-user-{user.id}", self.rules.user_messages)]
        if chat is not None and chat.id != user.id:  # a group: the chat's own budget, all members together
            checks.append((f"tg-chat-{chat.id}", self.rules.chat_messages))
        if _is_upload(update):
            checks.append((f"tg-user-{user.id}", self.rules.user_uploads))
        for subject, rule in checks:
            verdict = await self.limiter.hit(subject, rule)
            if not verdict.allowed:
                log.info("telegram flood: %s over %s (%d/%ds)", subject, rule.endpoint, rule.limit, rule.window_s)
                return verdict, rule
        return None


async def _answer(update: Update, text: str) -> None:
    try:
        if update.message is not None:
            await update.message.answer(text)
        elif update.callback_query is not None:
            await update.callback_query.answer(text[:200], show_alert=True)
    except Exception as exc:  # Telegram refusing our one answer must not turn a drop into an error
        log.warning("could not send the slow-down answer: %s", exc)


def install_flood_control(dp: Dispatcher, limiter: RateLimiter, settings: Settings) -> FloodMiddleware:
    """Register after the per-chat order lock (`ordering`): aiogram handles polled updates concurrently,
    and counting them in the order the chat sent them is what makes the first ones pass and the flood's
    tail be dropped. A dropped update holds the lock for one Redis round trip."""
    middleware = FloodMiddleware(limiter, settings)  # one per dispatcher: it remembers Redis outages
    dp.update.outer_middleware.unregister(dp.fsm)
    dp.update.outer_middleware(middleware)
    dp.update.outer_middleware(dp.fsm)
    return middleware
