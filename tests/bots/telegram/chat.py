"""What the creator does in every bot test: get through /start, and wait for the bot's next answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.seed.service import apply_seed


async def onboard(tg: Any, user_id: int, *, first_name: str | None = None) -> None:
    """/start, then /skip the e-mail question."""
    if first_name is None:
        tg.user_sends_command(user_id, "start")
    else:
        tg.user_sends_command(user_id, "start", first_name=first_name)
    await tg.wait_for_message(user_id, contains="what's your email", timeout=15)
    tg.user_sends_command(user_id, "skip")
    await tg.wait_for_message(user_id, contains="No problem", timeout=15)


async def seed_and_onboard(core_deps: Any, tg: Any, user_id: int) -> None:
    async with core_deps.sessionmaker() as session:
        await apply_seed(session=session)
        await session.commit()
    await onboard(tg, user_id)


def last_message_id(tg: Any, user_id: int) -> int:
    return max((m.message_id for m in tg.messages_to(user_id)), default=0)


async def reply_to(tg: Any, user_id: int, send: Callable[[], object], contains: str) -> Any:
    """Do `send()`, then wait for the first new bot message in the chat containing `contains`."""
    since = last_message_id(tg, user_id)
    send()
    return await tg.wait_for_message(user_id, contains=contains, timeout=15, since_message_id=since)
