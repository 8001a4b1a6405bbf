"""The notifier port on Telegram: how workers reply in chat without importing aiogram themselves.

Every request goes through a `Pacer` (per-chat and bot-wide rates, 429s waited out); failures leave as
`SendFailed` with `retry` set the way the outbox needs it (see `failure`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    AiogramError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import FSInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from bots.telegram.pacing import Pacer
from core.notify.ports import Button, ChatRef, OutgoingMessage, SendFailed

T = TypeVar("T")


def keyboard(rows: list[list[Button]]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=b.label, callback_data=b.action) for b in row] for row in rows]
    )


def failure(exc: BaseException) -> SendFailed:
    """Classify a failed Bot API request: may the same request succeed later (`retry`)?"""
    retry: bool
    retry_after: float | None = None
    if isinstance(exc, TelegramRetryAfter):  # still throttled after the pacer's own waiting
        retry, retry_after = True, float(exc.retry_after)
    elif isinstance(exc, TelegramEntityTooLarge):  # a file over the upload limit stays over it
        retry = False
    elif isinstance(exc, TelegramNetworkError | TelegramServerError | TimeoutError):
        retry = True
    elif isinstance(exc, TelegramUnauthorizedError | TelegramConflictError):
        # The bot's token or polling set-up is wrong, not the message: keep it until an operator fixes it.
        retry = True
    elif isinstance(exc, TelegramBadRequest | TelegramForbiddenError | TelegramNotFound | TelegramAPIError):
        # 400 (malformed, chat not found, group moved), 403 (blocked, kicked), 404, other 4xx.
        retry = False
    elif isinstance(exc, FileNotFoundError | IsADirectoryError | PermissionError):
        retry = False  # the file to upload is gone
    elif isinstance(exc, OSError):
        retry = True  # a socket error aiogram did not wrap
    elif isinstance(exc, AiogramError):  # e.g. an answer that does not decode
        retry = True
    else:
        retry = False
    detail = exc.message if isinstance(exc, TelegramAPIError) else str(exc) or type(exc).__name__
    return SendFailed(f"telegram: {detail}", retry=retry, retry_after=retry_after)


class TelegramNotifier:
    def __init__(self, bot: Bot, *, pacer: Pacer | None = None) -> None:
        self.bot = bot
        self.pacer = pacer or Pacer()

    async def close(self) -> None:
        """Close the bot's HTTP session (the owner calls this once, at shutdown)."""
        await self.bot.session.close()

    async def _request(self, chat_id: int, call: Callable[[], Awaitable[T]]) -> T:
        try:
            return await self.pacer.run(chat_id, call)
        except (AiogramError, OSError, TimeoutError) as exc:
            raise failure(exc) from exc

    async def send(self, chat: ChatRef, message: OutgoingMessage) -> str:
        markup = keyboard(message.buttons)
        chat_id = int(chat.chat_id)
        if message.video is not None:
            video = message.video
            sent = await self._request(
                chat_id,
                lambda: self.bot.send_video(
                    chat_id, FSInputFile(video), caption=message.text[:1024], reply_markup=markup,
                    supports_streaming=True,
                ),
            )  # fmt: skip
        elif message.document is not None:
            document = message.document
            sent = await self._request(
                chat_id,
                lambda: self.bot.send_document(
                    chat_id, FSInputFile(document, filename=message.filename), caption=message.text[:1024],
                    reply_markup=markup,
                ),
            )  # fmt: skip
        elif message.photo is not None:
            photo = message.photo
            sent = await self._request(
                chat_id,
                lambda: self.bot.send_photo(
                    chat_id, FSInputFile(photo), caption=message.text[:1024], reply_markup=markup
                ),
            )
        else:
            sent = await self._request(
                chat_id,
                lambda: self.bot.send_message(
                    chat_id, message.text[:4096], reply_markup=markup, disable_web_page_preview=True
                ),
            )
        return str(sent.message_id)

    async def edit_text(self, chat: ChatRef, message_id: str, text: str) -> None:
        chat_id = int(chat.chat_id)
        try:
            await self._request(
                chat_id,
                lambda: self.bot.edit_message_text(text=text[:4096], chat_id=chat_id, message_id=int(message_id)),
            )
        except SendFailed as exc:
            # An edit is cosmetic (progress): "message is not modified" is expected when two reports render
            # the same text, and a message the user deleted cannot be edited; neither is worth a retry.
            if isinstance(exc.__cause__, TelegramBadRequest):
                return
            raise
