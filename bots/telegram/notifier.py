"""The notifier port on Telegram: how workers reply in chat without importing aiogram themselves.

Every request goes through a `Pacer` (per-chat and bot-wide rates, 429s waited out); failures leave as
`SendFailed` with `retry` set the way the outbox needs it (see `failure`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
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
from aiogram.types import BufferedInputFile, FSInputFile, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bots.telegram.callbacks import encode
from bots.telegram.pacing import ChatTurn, Pacer
from bots.telegram.progress import progress_text
from bots.telegram.splitting import CAPTION_LIMIT, TEXT_LIMIT, cut, preview, split_text
from core.clips.thumbnails import preview_thumbnail
from core.media.errors import MediaError
from core.notify.ports import Button, ChatRef, OutgoingMessage, SendFailed
from core.notify.progress import Progress

log = logging.getLogger(__name__)
T = TypeVar("T")


def keyboard(rows: list[list[Button]]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=b.label, callback_data=encode(b.action)) for b in row] for row in rows
        ]
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
    """`max_text_parts`: a text needing more messages than this is sent as a document instead (with a
    short preview as its caption), so a long article arrives as one file rather than a wall of messages."""

    def __init__(self, bot: Bot, *, pacer: Pacer | None = None, max_text_parts: int = 3) -> None:
        self.bot = bot
        self.pacer = pacer or Pacer()
        self.max_text_parts = max_text_parts

    async def close(self) -> None:
        """Close the bot's HTTP session (the owner calls this once, at shutdown)."""
        await self.bot.session.close()

    @staticmethod
    async def _request(turn: ChatTurn, call: Callable[[], Awaitable[T]]) -> T:
        try:
            return await turn.call(call)
        except (AiogramError, OSError, TimeoutError) as exc:
            raise failure(exc) from exc

    async def send(self, chat: ChatRef, message: OutgoingMessage) -> str:
        """Deliver the whole text: a caption over Telegram's limit continues in text messages, a text over
        it is split at paragraph/sentence boundaries (or becomes a document); buttons go on the last part,
        whose id is returned."""
        markup = keyboard(message.buttons)
        chat_id = int(chat.chat_id)
        async with self.pacer.hold(chat_id) as turn:  # the parts of one message stay together
            if message.video is None and message.document is None and message.photo is None:
                sent = await self._send_text(turn, chat_id, message.text, markup, message.filename)
                return str(sent.message_id)
            caption, rest = cut(message.text, CAPTION_LIMIT)
            sent = await self._send_media(turn, chat_id, message, caption or None, None if rest else markup)
            if rest:
                sent = await self._send_text(turn, chat_id, rest, markup, None)
            return str(sent.message_id)

    async def _send_media(
        self,
        turn: ChatTurn,
        chat_id: int,
        message: OutgoingMessage,
        caption: str | None,
        markup: InlineKeyboardMarkup | None,
    ) -> Message:
        if message.video is not None:
            video = message.video
            with tempfile.TemporaryDirectory(prefix="recast-tg-") as tmp:
                thumb = await _chat_thumbnail(message.thumbnail, Path(tmp))
                return await self._request(
                    turn,
                    lambda: self.bot.send_video(
                        chat_id,
                        FSInputFile(video),
                        caption=caption,
                        reply_markup=markup,
                        supports_streaming=True,
                        thumbnail=FSInputFile(thumb) if thumb else None,
                    ),
                )
        if message.document is not None:
            document = message.document
            return await self._request(
                turn,
                lambda: self.bot.send_document(
                    chat_id, FSInputFile(document, filename=message.filename), caption=caption, reply_markup=markup
                ),
            )
        assert message.photo is not None
        photo = message.photo
        return await self._request(
            turn, lambda: self.bot.send_photo(chat_id, FSInputFile(photo), caption=caption, reply_markup=markup)
        )

    async def _send_text(
        self, turn: ChatTurn, chat_id: int, text: str, markup: InlineKeyboardMarkup | None, filename: str | None
    ) -> Message:
        parts = split_text(text, TEXT_LIMIT) or [text]  # an empty text is Telegram's to refuse
        if len(parts) > self.max_text_parts:
            body = BufferedInputFile(text.encode(), filename=filename or "message.txt")
            caption = preview(text, CAPTION_LIMIT, suffix="\n\n(Full text attached.)")
            return await self._request(
                turn, lambda: self.bot.send_document(chat_id, body, caption=caption, reply_markup=markup)
            )
        sent: Message | None = None
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            sent = await self._request(
                turn,
                functools.partial(
                    self.bot.send_message,
                    chat_id,
                    part,
                    reply_markup=markup if last else None,
                    disable_web_page_preview=True,
                ),
            )
        assert sent is not None
        return sent

    async def edit_text(self, chat: ChatRef, message_id: str, text: str) -> None:
        chat_id = int(chat.chat_id)
        try:
            async with self.pacer.hold(chat_id) as turn:
                await self._request(
                    turn,
                    lambda: self.bot.edit_message_text(
                        text=cut(text, TEXT_LIMIT)[0], chat_id=chat_id, message_id=int(message_id)
                    ),
                )
        except SendFailed as exc:
            # An edit is cosmetic (progress): "message is not modified" is expected when two reports render
            # the same text, and a message the user deleted cannot be edited; neither is worth a retry.
            if isinstance(exc.__cause__, TelegramBadRequest):
                return
            raise

    async def show_progress(self, chat: ChatRef, message_id: str, progress: Progress) -> None:
        await self.edit_text(chat, message_id, progress_text(progress))


async def _chat_thumbnail(source: Path | None, work_dir: Path) -> Path | None:
    """Telegram shows a video's thumbnail only if it is a JPEG of at most 320 px a side (under 200 kB)."""
    if source is None or not source.is_file():
        return None
    try:
        return await asyncio.to_thread(preview_thumbnail, source, work_dir / "thumb.jpg", max_side=320)
    except MediaError as exc:  # no preview is better than no clip
        log.warning("thumbnail %s unusable: %s", source, exc)
        return None
