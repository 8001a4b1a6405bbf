"""The notifier port on Telegram: how workers reply in chat without importing aiogram themselves."""

from __future__ import annotations

import contextlib

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import FSInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from core.notify.ports import Button, ChatRef, OutgoingMessage


def keyboard(rows: list[list[Button]]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=b.label, callback_data=b.action) for b in row] for row in rows]
    )


class TelegramNotifier:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, chat: ChatRef, message: OutgoingMessage) -> str:
        markup = keyboard(message.buttons)
        chat_id = int(chat.chat_id)
        if message.video is not None:
            sent = await self.bot.send_video(
                chat_id,
                FSInputFile(message.video),
                caption=message.text[:1024],
                reply_markup=markup,
                supports_streaming=True,
            )
        elif message.document is not None:
            sent = await self.bot.send_document(
                chat_id,
                FSInputFile(message.document, filename=message.filename),
                caption=message.text[:1024],
                reply_markup=markup,
            )
        elif message.photo is not None:
            sent = await self.bot.send_photo(
                chat_id, FSInputFile(message.photo), caption=message.text[:1024], reply_markup=markup
            )
        else:
            sent = await self.bot.send_message(
                chat_id, message.text[:4096], reply_markup=markup, disable_web_page_preview=True
            )
        return str(sent.message_id)

    async def edit_text(self, chat: ChatRef, message_id: str, text: str) -> None:
        # "message is not modified" is expected when two progress reports render the same text.
        with contextlib.suppress(TelegramBadRequest):
            await self.bot.edit_message_text(text=text[:4096], chat_id=int(chat.chat_id), message_id=int(message_id))
