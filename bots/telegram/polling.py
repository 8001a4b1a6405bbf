"""Telegram long polling that stores each update before it confirms it.

Why not aiogram's `start_polling`: it asks for the next batch (which confirms the last one to Telegram)
while the last batch's handlers are still running, so a process killed mid-handler loses that update for
good: the creator saw "Received" and nothing followed. Here a batch is written to `gateway_events` under
(telegram, update_id) in one transaction before the next `getUpdates` confirms it, then each update is
handled under the same lease as webhook mode (`bots.telegram.webhook`): renewed while its handler runs,
picked up again by the sweeper (here or in any other bot or web process) once its renewal stops. An update
Telegram sends again (its confirmation was lost with the process) is stored once and handled once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramRetryAfter
from aiogram.types import Update

from bots.telegram.update_log import update_type_of
from bots.telegram.webhook import HEARTBEAT_S, claim_stale_updates, process_stored_update
from core.deps import CoreDeps
from core.inbox import service as inbox

log = logging.getLogger(__name__)
BACKOFF_CAP_S = 30.0


async def store_updates(deps: CoreDeps, updates: list[Update]) -> list[tuple[uuid.UUID, Update]]:
    """Store a batch in one transaction; returns the updates not stored before (the ones to handle)."""
    stored: list[tuple[uuid.UUID, Update]] = []
    async with deps.sessionmaker() as session:
        for update in updates:
            body = update.model_dump_json(by_alias=True, exclude_none=True).encode()
            event_id = await inbox.record_update(
                session,
                sender="telegram",
                event_id=str(update.update_id),
                event_type=update_type_of(update),
                body=body,
            )
            if event_id is not None:
                stored.append((event_id, update))
        await session.commit()
    return stored


async def poll_durably(
    deps: CoreDeps, dp: Dispatcher, bot: Bot, *, lease_s: float, timeout_s: int = 25, grace_s: float = 10.0
) -> None:
    """Poll until cancelled. On cancel, handlers still running get `grace_s` to finish; whatever is left
    keeps its stored row and is handled again by a sweeper once its lease runs out."""
    allowed = dp.resolve_used_update_types()
    handling: set[asyncio.Task[None]] = set()
    offset: int | None = None
    failures = 0

    def handle(event_id: uuid.UUID, update: Update) -> None:
        task = asyncio.create_task(process_stored_update(deps, dp, bot, event_id, update, lease_s=lease_s))
        handling.add(task)
        task.add_done_callback(handling.discard)

    async def sweep_forever() -> None:
        while True:
            try:
                for event_id, update in await claim_stale_updates(deps, bot, lease_s=lease_s):
                    handle(event_id, update)  # with the fresh ones: a stop gives it the same grace
            except Exception as exc:
                log.warning("telegram update sweeper: %s: %s", type(exc).__name__, exc)
            await asyncio.sleep(min(HEARTBEAT_S, lease_s / 2))

    await dp.emit_startup(bot=bot)  # what start_polling emits: pasted text left by a restart
    sweeper = asyncio.create_task(sweep_forever(), name="telegram update sweeper")
    try:
        while True:
            try:
                updates = await bot.get_updates(offset=offset, timeout=timeout_s, allowed_updates=allowed)
                fresh = await store_updates(deps, updates) if updates else []
            except asyncio.CancelledError:
                raise
            except TelegramRetryAfter as exc:
                await asyncio.sleep(exc.retry_after)
                continue
            except Exception as exc:  # Telegram or our database unreachable: nothing confirmed, try again
                failures += 1
                delay = min(BACKOFF_CAP_S, 0.5 * 2**failures)
                log.warning("telegram polling: %s: %s; retrying in %.1f s", type(exc).__name__, exc, delay)
                await asyncio.sleep(delay)
                continue
            failures = 0
            if updates:
                offset = updates[-1].update_id + 1  # confirmed on the next call, once stored
            for event_id, update in fresh:
                handle(event_id, update)
    finally:
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
        if handling:
            _, late = await asyncio.wait(set(handling), timeout=grace_s)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        with contextlib.suppress(Exception):
            await dp.emit_shutdown(bot=bot)
