"""Telegram webhook mode: verify the secret token, store the update, acknowledge, then process it.

Why store first: Telegram retries an update until it gets a 2xx; storing it in `gateway_events` under
(telegram, update_id) before answering means a retry is recognised as a duplicate and never handled
twice, and an update whose handling failed keeps its evidence on the row.

Why a lease: after the 2xx Telegram never sends the update again, so a web process that dies while
handling it would lose it. While an update is handled its row's `processed_at` is renewed every
`HEARTBEAT_S`; a sweeper in every web process picks up an update whose renewal stopped for
`LEASE_S` (claimed by a conditional UPDATE, so only one process does) and handles it again, at most
`MAX_ATTEMPTS` times.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import uuid
from datetime import timedelta

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiohttp import web

from bots.telegram.update_log import update_type_of
from core.deps import CoreDeps
from core.inbox import service as inbox

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEARTBEAT_S = 10.0
LEASE_S = 60.0
MAX_ATTEMPTS = 3


async def _renew(deps: CoreDeps, event_id: uuid.UUID, every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        with contextlib.suppress(Exception):  # a blip: the lease is long enough to ride it out
            async with deps.sessionmaker() as session:
                await inbox.renew_lease(session, event_id)
                await session.commit()


async def claim_stale_updates(deps: CoreDeps, bot: Bot, *, lease_s: float = LEASE_S) -> list[tuple[uuid.UUID, Update]]:
    """The updates whose process stopped mid-way (their lease ran out), claimed for handling here."""
    async with deps.sessionmaker() as session:
        rows = await inbox.claim_stale_updates(
            session, sender="telegram", lease=timedelta(seconds=lease_s), max_attempts=MAX_ATTEMPTS
        )
        await session.commit()
    claimed = []
    for event_id, body in rows:
        try:
            claimed.append((event_id, Update.model_validate(json.loads(body), context={"bot": bot})))
        except ValueError:
            continue
        log.warning("telegram update %s: its handler stopped mid-way; handling it again", event_id)
    return claimed


async def resume_stale_updates(deps: CoreDeps, dp: Dispatcher, bot: Bot, *, lease_s: float = LEASE_S) -> int:
    """Handle again the updates whose process stopped mid-way (their lease ran out); returns how many."""
    claimed = await claim_stale_updates(deps, bot, lease_s=lease_s)
    for event_id, update_obj in claimed:
        await process_stored_update(deps, dp, bot, event_id, update_obj, lease_s=lease_s)
    return len(claimed)


async def process_stored_update(
    deps: CoreDeps, dp: Dispatcher, bot: Bot, event_id: uuid.UUID, update_obj: Update, *, lease_s: float = LEASE_S
) -> None:
    error = None
    # Renewed well inside the lease, so no sweeper takes an update this process is still handling.
    heartbeat = asyncio.create_task(_renew(deps, event_id, min(HEARTBEAT_S, lease_s / 3)))
    try:
        await dp.feed_update(bot, update_obj)
    except Exception as exc:  # the middleware already answered the user; keep the evidence
        error = f"{type(exc).__name__}: {exc}"
        log.exception("telegram update %s failed", event_id)
    finally:
        heartbeat.cancel()
    async with deps.sessionmaker() as session:
        await inbox.finish_update(session, event_id, error=error)
        await session.commit()


def mount_telegram_webhook(
    app: web.Application, *, deps: CoreDeps, dp: Dispatcher, bot: Bot, secret: str, path: str = "/telegram/webhook"
) -> None:
    background: set[asyncio.Task[None]] = set()

    async def process(event_id: uuid.UUID, update_obj: Update) -> None:
        await process_stored_update(deps, dp, bot, event_id, update_obj)

    async def sweep_forever() -> None:
        while True:
            try:
                await resume_stale_updates(deps, dp, bot)
            except Exception as exc:
                log.warning("telegram update sweeper: %s: %s", type(exc).__name__, exc)
            await asyncio.sleep(HEARTBEAT_S)

    async def start_sweeper(_: web.Application) -> None:
        task = asyncio.create_task(sweep_forever())
        background.add(task)
        task.add_done_callback(background.discard)

    async def stop_sweeper(_: web.Application) -> None:
        for task in list(background):
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)

    async def handle(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return web.Response(status=401)
        body = await request.read()
        try:
            payload = json.loads(body)
            update_obj = Update.model_validate(payload, context={"bot": bot})
        except ValueError:
            log.warning("malformed Telegram update (%d bytes)", len(body))
            return web.Response(status=400)
        async with deps.sessionmaker() as session:
            event_id = await inbox.record_update(
                session,
                sender="telegram",
                event_id=str(update_obj.update_id),
                event_type=update_type_of(update_obj),
                body=body,
            )
            await session.commit()
        if event_id is not None:
            task = asyncio.create_task(process(event_id, update_obj))
            background.add(task)
            task.add_done_callback(background.discard)
        return web.Response(status=200)

    app.router.add_post(path, handle)
    app.on_startup.append(start_sweeper)
    app.on_cleanup.append(stop_sweeper)
