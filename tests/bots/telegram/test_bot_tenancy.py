"""Row-level security through the Telegram door: an update from a creator acts for that creator's
organization, and so does the work it queues. Two creators with rows of their own; the probe below runs
the queries a forgetful handler would run (no WHERE at all) inside the real dispatcher, middleware and
worker, and sees only the sender's rows."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

from aiogram import Bot, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.filters import Command, CommandObject
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import Message
from chat import onboard
from fakes.telegram_api import FakeTelegram
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from workers import drain, running_worker

from bots.telegram.app import make_dispatcher
from bots.telegram.notifier import TelegramNotifier
from core.accounts.models import ChatIdentity
from core.content.models import ContentAsset
from core.deps import CoreDeps
from core.seed.service import apply_seed
from core.work.models import WorkUnit
from core.work.registry import unit_handler
from tests.analytics_rows import Piece, upload_with_drafts

ASHA, RAVI = 5880001, 5880002  # ids no other test uses: identities persist in the run's database
PROBE_UNIT = "test.tenancy_probe"


@unit_handler(PROBE_UNIT, max_attempts=1)
async def _probe_unit(*, deps: CoreDeps, **_: Any) -> dict[str, Any]:
    """A unit handler that forgets every filter: what it can see is what the worker acts for."""
    async with deps.sessionmaker() as session:
        ids = (await session.scalars(text("SELECT id FROM content_assets"))).all()
    return {"visible": ",".join(sorted(str(i) for i in ids))}


def _probe_router() -> Router:
    router = Router(name="tenancy-probe")

    @router.message(Command("rlsprobe"))
    async def probe(message: Message, command: CommandObject, session: AsyncSession, deps: CoreDeps) -> None:
        role = await session.scalar(text("SELECT current_user"))
        visible = sorted(str(i) for i in (await session.scalars(text("SELECT id FROM content_assets"))).all())
        changed = 0
        if command.args:  # try to rename someone else's upload, as a handler with a wrong id would
            result = await session.execute(
                text("UPDATE content_assets SET title = 'taken' WHERE id = :id"), {"id": command.args}
            )
            changed = result.rowcount  # type: ignore[attr-defined]
        await deps.enqueue(PROBE_UNIT, nonce=uuid.uuid4().hex)
        await message.answer(f"role={role} changed={changed} visible={','.join(visible)}")

    return router


@contextlib.asynccontextmanager
async def _bot_with_probe(core_deps: CoreDeps, run_id: str):
    async with FakeTelegram() as tg:
        bot = Bot(tg.token, session=AiohttpSession(api=tg.api_server))
        core_deps.notifier = TelegramNotifier(bot)
        async with running_worker(core_deps, f"recast-test-{run_id}-{uuid.uuid4().hex[:6]}", concurrency=1) as w:
            dp = make_dispatcher(core_deps, storage=RedisStorage(redis=core_deps.redis))
            dp.include_router(_probe_router())
            dp.sub_routers.insert(0, dp.sub_routers.pop())  # ahead of the catch-all routers
            polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
            try:
                yield tg, w
            finally:
                await dp.stop_polling()
                await asyncio.gather(polling, return_exceptions=True)
                await bot.session.close()


async def _user_id(core_deps: CoreDeps, chat_user: int) -> uuid.UUID:
    async with core_deps.sessionmaker() as s:
        identity = await s.scalar(select(ChatIdentity).where(ChatIdentity.external_user_id == str(chat_user)))
        assert identity is not None
        return identity.user_id


async def test_a_creators_update_and_its_queued_work_see_only_their_own_rows(live_deps, run_id):
    core_deps = live_deps
    async with core_deps.sessionmaker() as session:
        await apply_seed(session=session)
        await session.commit()
    async with _bot_with_probe(core_deps, run_id) as (tg, worker):
        await onboard(tg, ASHA)
        await onboard(tg, RAVI)
        uploads: dict[int, set[str]] = {}
        async with core_deps.sessionmaker() as session:  # the tables' owner: the fixtures' rows
            for chat_user in (ASHA, RAVI):
                user_id = await _user_id(core_deps, chat_user)
                for title in ("one", "two"):
                    asset, _ = await upload_with_drafts(session, user_id, [Piece()], title=title)
                    uploads.setdefault(chat_user, set()).add(str(asset.id))
            await session.commit()
        ravis_upload = sorted(uploads[RAVI])[0]

        tg.user_sends_text(ASHA, f"/rlsprobe {ravis_upload}")
        answer = await tg.wait_for_message(ASHA, contains="role=", timeout=15)
        await drain(worker)

    role, changed, visible = (part.split("=", 1)[1] for part in answer.content.split(" "))
    assert role == "recast_app"
    assert set(visible.split(",")) == uploads[ASHA]  # all of Asha's uploads, none of Ravi's
    assert changed == "0"
    async with core_deps.sessionmaker() as s:
        assert (await s.get_one(ContentAsset, uuid.UUID(ravis_upload))).title != "taken"
        units = (
            await s.scalars(select(WorkUnit).where(WorkUnit.kind == PROBE_UNIT).order_by(WorkUnit.created_at.desc()))
        ).all()
    asha_org = units[0].organization_id
    assert asha_org is not None
    assert units[0].result == {"visible": ",".join(sorted(uploads[ASHA]))}
