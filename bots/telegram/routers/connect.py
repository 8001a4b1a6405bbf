"""/connect and /connections: link the creator's social accounts (OAuth in the browser), see and remove them."""

from __future__ import annotations

import uuid

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bots.telegram.callbacks import CONNECT_PREFIX
from bots.telegram.identity import current_user
from core.deps import CoreDeps
from core.distribution import connect, connections, service
from core.distribution.connections import Owner
from core.distribution.models import ConnectionStatus, PlatformConnection
from core.distribution.platforms.names import Platform, label
from core.notify.ports import ChatRef

NOT_SET_UP = (
    "Publishing isn't set up on this server yet: its operator adds a platform's app keys first "
    "(README, “Platforms”). Until then, approve a draft and tap “Copy text” to post it yourself."
)
DISCONNECT, CONFIRM, KEEP = "cx:d:", "cx:y:", "cx:n:"


def _account(connection: PlatformConnection) -> str:
    name = label(connection.platform)
    return f"{name} ({connection.platform_username})" if connection.platform_username else name


def _state_line(connection: PlatformConnection) -> str:
    if connection.status == ConnectionStatus.ACTIVE:
        return f"• {_account(connection)}: connected"
    return f"• {_account(connection)}: needs connecting again ({connection.status_reason or connection.status})"


async def _links(deps: CoreDeps, owner: Owner, chat_id: int, platforms: list[Platform]) -> InlineKeyboardMarkup:
    chat = ChatRef("telegram", str(chat_id))
    rows = []
    for platform in platforms:
        url = await connect.sign_in_link(deps.redis, deps.settings, platform, owner, chat)
        rows.append([InlineKeyboardButton(text=f"Connect {label(platform)}", url=url)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _pick(available: list[Platform], wanted: str) -> list[Platform] | None:
    if not wanted:
        return available
    aliases = {"twitter": "x"}
    wanted = aliases.get(wanted.lower(), wanted.lower())
    return [p for p in available if p == wanted] or None


async def connect_command(message: Message, command: CommandObject, session: AsyncSession, deps: CoreDeps) -> None:
    user = await current_user(session, message.from_user)
    available = connect.connectable(deps.settings)
    if not available:
        await message.answer(NOT_SET_UP)
        return
    platforms = _pick(available, (command.args or "").strip())
    if platforms is None:
        names = ", ".join(label(p) for p in available)
        await message.answer(f"I can connect: {names}. Send /connect to get the sign-in buttons.")
        return
    markup = await _links(deps, Owner(user.id), message.chat.id, platforms)
    await message.answer(
        "Connect an account Recast can publish to. Each button opens the platform's sign-in page and works "
        "once, for 10 minutes; I'll confirm here when it's done.",
        reply_markup=markup,
    )


async def reconnect_button(query: CallbackQuery, session: AsyncSession, deps: CoreDeps) -> None:
    user = await current_user(session, query.from_user)
    platforms = _pick(connect.connectable(deps.settings), (query.data or "").removeprefix(CONNECT_PREFIX))
    if not platforms or query.message is None:
        await query.answer("That platform isn't set up on this server any more.", show_alert=True)
        return
    await query.answer()
    markup = await _links(deps, Owner(user.id), query.message.chat.id, platforms)
    await query.message.answer("Sign in again and your held posts go out:", reply_markup=markup)


async def list_connections(message: Message, session: AsyncSession, deps: CoreDeps) -> None:
    user = await current_user(session, message.from_user)
    mine = await connections.connections_of(session, Owner(user.id))
    if not mine:
        text = "No accounts connected yet. /connect adds one."
        await message.answer(text if connect.connectable(deps.settings) else NOT_SET_UP)
        return
    rows = [[InlineKeyboardButton(text=f"Disconnect {_account(c)}", callback_data=DISCONNECT + c.id.hex)] for c in mine]
    await message.answer(
        "Your connected accounts:\n" + "\n".join(_state_line(c) for c in mine),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
    )


async def disconnect_buttons(query: CallbackQuery, session: AsyncSession, deps: CoreDeps) -> None:
    data = query.data or ""
    user = await current_user(session, query.from_user)
    owner = Owner(user.id)
    try:
        connection_id = uuid.UUID(hex=data[5:])
    except ValueError:
        await query.answer("That button has expired. Send /connections again.", show_alert=True)
        return
    if data.startswith(KEEP):
        await query.answer("Kept.")
        return
    connection = await connections.connection_of(session, owner, connection_id)
    if data.startswith(DISCONNECT):
        await query.answer()
        if query.message is not None:
            confirm = InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        InlineKeyboardButton(text="Yes, disconnect", callback_data=CONFIRM + connection_id.hex),
                        InlineKeyboardButton(text="Keep it", callback_data=KEEP + connection_id.hex),
                    ]
                ]
            )
            await query.message.answer(
                f"Disconnect {_account(connection)}? Recast deletes its access and cancels the posts scheduled on it.",
                reply_markup=confirm,
            )
        return
    result = await service.disconnect(session, deps.settings, owner, connection_id)
    await session.commit()
    await query.answer("Disconnected.")
    text = f"Disconnected {_account(connection)}. " + service.disconnect_summary(result)
    if query.message is not None:
        await query.message.answer(text)


def setup() -> Router:
    router = Router(name="connect")
    router.message(Command("connect"))(connect_command)
    router.callback_query(F.data.startswith(CONNECT_PREFIX))(reconnect_button)
    router.message(Command("connections"))(list_connections)
    router.callback_query(F.data.startswith("cx:"))(disconnect_buttons)
    return router
