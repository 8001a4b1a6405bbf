"""One database session per update, owned by this middleware; domain errors rendered as friendly replies."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, User
from sqlalchemy.ext.asyncio import AsyncSession

from bots.telegram.identity import remember_sender
from bots.telegram.update_log import REPORT_KEY, UpdateReport
from core.accounts import service as accounts
from core.common.errors import RecastError
from core.db.session import acting_for, set_acting
from core.db.tenancy import act_for
from core.deps import CoreDeps
from core.media.errors import MediaError
from core.system.audit import AuditSource, acting_as

log = logging.getLogger(__name__)
AfterCommit = list[Callable[[], Awaitable[None]]]


class CoreMiddleware(BaseMiddleware):
    """Gives handlers `deps`, `session` and `after_commit` (work that must only run once the update's
    rows are committed, such as enqueueing a task that reads them). Audit rows made while handling an
    update come through the `telegram` channel, with the sender as actor."""

    def __init__(self, deps: CoreDeps) -> None:
        self.deps = deps

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        after_commit: AfterCommit = []
        data["deps"], data["after_commit"] = self.deps, after_commit
        sender = data.get("event_from_user")
        actor = f"telegram:{sender.id}" if isinstance(sender, User) else None
        # Whoever this update acts for, and audits as, ends with it. The HTTP peer is Telegram: no address kept.
        with acting_for(None), acting_as(AuditSource("telegram", actor=actor)):
            return await self._handle(handler, event, data, after_commit)

    async def _handle(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
        after_commit: AfterCommit,
    ) -> Any:
        async with self.deps.sessionmaker() as session:
            data["session"] = session
            try:
                await _act_for_sender(session, data)
                result = await handler(event, data)
                await session.commit()
            except (RecastError, MediaError) as exc:
                await session.rollback()
                _report(data, "refused")
                log.info("user error: %s", exc)
                await _reply(event, exc.user_message)
                return None
            except Exception:
                await session.rollback()
                _report(data, "error")
                log.exception("handler failed")
                await _reply(event, "Something went wrong on our side. Please try again in a minute.")
                return None
        for job in after_commit:
            await job()
        return result


async def _act_for_sender(session: AsyncSession, data: dict[str, Any]) -> None:
    """Row-level security: once the sender's organization is known (identity tables are shared), the rest
    of the update, and the work it queues, acts for it alone. Unregistered senders act as no one."""
    sender: User | None = data.get("event_from_user")
    if sender is None:
        return
    found = await accounts.chat_user_and_organization(
        session=session, provider="telegram", external_user_id=str(sender.id)
    )
    if found is not None:
        user_id, organization_id = found
        remember_sender(session, sender.id, user_id)  # the handler's current_user needs no second lookup
        await session.commit()  # the lookup's transaction ends; the handler's begins acting for the sender
        act_for(session, organization_id)
        set_acting(organization_id)  # sessions the handler opens itself, and its after-commit jobs


def _report(data: dict[str, Any], outcome: str) -> None:
    report = data.get(REPORT_KEY)
    if isinstance(report, UpdateReport):
        report.outcome = outcome


async def _reply(event: TelegramObject, text: str) -> None:
    if isinstance(event, Message):
        await event.answer(text)
    elif isinstance(event, CallbackQuery):
        await event.answer(text[:200], show_alert=True)
