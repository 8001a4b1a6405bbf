"""Who is talking: the Recast user behind a Telegram account."""

from __future__ import annotations

from aiogram.types import User as TgUser
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import service as accounts
from core.accounts.models import User


async def current_user(session: AsyncSession, tg_user: TgUser | None) -> User:
    if tg_user is None:
        raise accounts.NotRegistered()
    identity = await accounts.identity_for(session=session, provider="telegram", external_user_id=str(tg_user.id))
    return await session.get_one(User, identity.user_id)
