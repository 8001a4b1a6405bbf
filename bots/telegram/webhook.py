"""Telegram webhook mode: verify the secret token, store the update, acknowledge, then process it.

Why store first: Telegram retries an update until it gets a 2xx; storing it in `gateway_events` under
(telegram, update_id) before answering means a retry is recognised as a duplicate and never handled
twice, and an update whose handling failed keeps its evidence on the row.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import uuid

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiohttp import web
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert

from core.common.clock import utcnow
from core.deps import CoreDeps
from core.inbox.models import GatewayEvent

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def mount_telegram_webhook(
    app: web.Application, *, deps: CoreDeps, dp: Dispatcher, bot: Bot, secret: str, path: str = "/telegram/webhook"
) -> None:
    background: set[asyncio.Task[None]] = set()

    async def process(event_id: uuid.UUID, update_obj: Update) -> None:
        status, error = "processed", None
        try:
            await dp.feed_update(bot, update_obj)
        except Exception as exc:  # the middleware already answered the user; keep the evidence
            status, error = "failed", f"{type(exc).__name__}: {exc}"
            log.exception("telegram update %s failed", event_id)
        async with deps.sessionmaker() as session:
            await session.execute(
                update(GatewayEvent)
                .where(GatewayEvent.id == event_id)
                .values(status=status, processed_at=utcnow(), attempts=GatewayEvent.attempts + 1, last_error=error)
            )
            await session.commit()

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
            event_id = (
                await session.execute(
                    insert(GatewayEvent)
                    .values(
                        sender="telegram",
                        sender_event_id=str(update_obj.update_id),
                        event_type=update_obj.event_type,
                        raw_body=body,
                        headers={},
                        status="processing",
                    )
                    .on_conflict_do_nothing(index_elements=["sender", "sender_event_id"])
                    .returning(GatewayEvent.id)
                )
            ).scalar_one_or_none()
            await session.commit()
        if event_id is not None:
            task = asyncio.create_task(process(event_id, update_obj))
            background.add(task)
            task.add_done_callback(background.discard)
        return web.Response(status=200)

    app.router.add_post(path, handle)
