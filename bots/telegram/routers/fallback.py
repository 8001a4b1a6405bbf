"""The last router: every message nothing else took gets an answer (never silence)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, Message

from bots.telegram import commands


def command_name(text: str) -> str:
    """`/Plan@recast_bot pro` → `plan`."""
    return text.split(maxsplit=1)[0].lstrip("/").split("@", 1)[0].lower()


def unknown_command_reply(name: str) -> str:
    suggestion = commands.nearest(name)
    if suggestion is not None:
        return f"I don't know /{name}. Did you mean /{suggestion}?"
    listing = "\n".join(f"/{c} – {d}" for c, d in commands.COMMANDS)
    return f"I don't know /{name}. These are the commands I understand:\n{listing}"


def setup() -> Router:
    router = Router(name="fallback")

    @router.message(StateFilter("*"), F.text.startswith("/"))
    async def unknown_command(message: Message) -> None:
        await message.answer(unknown_command_reply(command_name(message.text or "/")))

    @router.message(StateFilter("*"), F.photo)
    async def photo(message: Message) -> None:
        await message.answer("I can't make drafts from a photo. " + commands.WHAT_I_TAKE)

    @router.message(StateFilter("*"), F.sticker)
    async def sticker(message: Message) -> None:
        await message.answer("Stickers I can only admire. " + commands.WHAT_I_TAKE)

    @router.message(StateFilter("*"))
    async def anything_else(message: Message) -> None:
        await message.answer("I can't work with that kind of message. " + commands.WHAT_I_TAKE)

    @router.callback_query(StateFilter("*"))
    async def unknown_button(query: CallbackQuery) -> None:
        await query.answer("That button no longer works. Send /help to see what I can do.", show_alert=True)

    return router
