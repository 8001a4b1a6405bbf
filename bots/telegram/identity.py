"""Who is talking: the Recast user behind a Telegram account."""

from __future__ import annotations

import uuid

from aiogram.types import User as TgUser
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import service as accounts
from core.accounts.models import User

_SENDERS = "telegram_senders"
"""`session.info` key: Telegram user id → Recast user id, as the middleware found it for this update."""


def remember_sender(session: AsyncSession, telegram_user_id: int, user_id: uuid.UUID) -> None:
    session.info.setdefault(_SENDERS, {})[telegram_user_id] = user_id


async def current_user(session: AsyncSession, tg_user: TgUser | None) -> User:
    if tg_user is None:
        raise accounts.NotRegistered()
    user_id = session.info.get(_SENDERS, {}).get(tg_user.id)
    if user_id is None:
        identity = await accounts.identity_for(session=session, provider="telegram", external_user_id=str(tg_user.id))
        user_id = identity.user_id
    user = await session.get(User, user_id)
    if user is None:  # deleted since the middleware looked (e.g. /delete_account confirmed in this update)
        raise accounts.NotRegistered()
    return user
