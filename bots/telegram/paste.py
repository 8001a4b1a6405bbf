"""A long paste is one piece of content, however many messages Telegram splits it into.

Telegram delivers a text longer than 4096 characters as several messages, a second or so apart.
Each part is appended to a per-chat buffer in Redis (so a restart loses no part) and the buffer is
ingested as one asset, charged once, when the chat has been quiet for `telegram_paste_window_seconds`.

Why Redis and a sequence number: every part bumps the buffer's `seq`; the timer started by a part
flushes only if `seq` is still the one it saw, so only the last part's timer does the work. The flush
holds the chat's ordering lock (`bots.telegram.ordering`), so no part of the same chat is appended
while it runs; the asset remembers which buffer it came from, so a flush repeated after a crash
between commit and clean-up finds the asset it already made instead of making a second one.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Message
from redis.asyncio import Redis
from sqlalchemy import select

from bots.telegram.progress import progress_text
from core.common.errors import RecastError
from core.content import service as content
from core.content.guards import UploadLimits
from core.content.models import ContentAsset
from core.deps import CoreDeps
from core.media.errors import MediaError
from core.notify.ports import ChatRef, OutgoingMessage
from core.pipeline import chat as chat_binding
from core.pipeline import progress

log = logging.getLogger(__name__)
KEY_TTL_S = 7 * 86400  # a buffer left by a stopped bot waits this long for the next start

# Delete the buffer only if no part was added since `seq` (ARGV[1]) was read.
_CLEAR_IF_UNCHANGED = """
if redis.call('HGET', KEYS[1], 'seq') == ARGV[1] then
  redis.call('DEL', KEYS[1], KEYS[2])
  return 1
end
return 0
"""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def join_parts(parts: list[str]) -> str:
    """Telegram trims the whitespace at each split point; put one space back where none is left."""
    text = ""
    for part in parts:
        if text and not text[-1].isspace() and not part[:1].isspace():
            text += " "
        text += part
    return text


class PasteBuffer:
    def __init__(
        self,
        deps: CoreDeps,
        *,
        lock_for: Callable[[int], asyncio.Lock],
        prefix: str,
        window_s: float | None = None,
    ) -> None:
        self.deps = deps
        self.redis: Redis = deps.redis
        self.lock_for = lock_for
        self.prefix = prefix
        self._window_s = window_s
        self._timers: set[asyncio.Task[None]] = set()

    @property
    def window_s(self) -> float:
        return self._window_s if self._window_s is not None else self.deps.settings.telegram_paste_window_seconds

    def _keys(self, bot_id: int, chat_id: int) -> tuple[str, str]:
        base = f"{self.prefix}:tg:{bot_id}:paste:{chat_id}"
        return f"{base}:meta", f"{base}:parts"

    async def pending(self, bot_id: int, chat_id: int) -> bool:
        meta, _ = self._keys(bot_id, chat_id)
        return bool(await self.redis.exists(meta))

    async def add(self, message: Message, bot: Bot, *, user_id: uuid.UUID, organization_id: uuid.UUID) -> None:
        """Buffer one text part (the caller holds the chat's ordering lock) and answer it."""
        chat_id = message.chat.id
        meta, parts = self._keys(bot.id, chat_id)
        text = message.text or ""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.rpush(parts, text)
            pipe.hincrby(meta, "seq", 1)
            pipe.hincrby(meta, "chars", len(text))
            pipe.hsetnx(meta, "user_id", str(user_id))
            pipe.hsetnx(meta, "organization_id", str(organization_id))
            pipe.expire(parts, KEY_TTL_S)
            pipe.expire(meta, KEY_TTL_S)
            count, seq, chars, *_ = await pipe.execute()
        if count == 1:
            status = await message.answer("⏳ Got your text…")
            await self.redis.hset(meta, "status_message_id", str(status.message_id))
        else:
            status_id = await self.redis.hget(meta, "status_message_id")
            if status_id is not None:
                await self.deps.notifier.edit_text(
                    ChatRef("telegram", str(chat_id)),
                    _text(status_id),
                    f"⏳ Got your text — {count} parts, {chars:,} characters so far…",
                )
        self._schedule(bot.id, chat_id, int(seq), self.window_s)

    def _schedule(self, bot_id: int, chat_id: int, seq: int, delay_s: float) -> None:
        task = asyncio.create_task(self._flush_later(bot_id, chat_id, seq, delay_s))
        self._timers.add(task)
        task.add_done_callback(self._timers.discard)

    async def _flush_later(self, bot_id: int, chat_id: int, seq: int, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        try:
            async with self.lock_for(chat_id):
                await self.flush(bot_id, chat_id, seq)
        except Exception:
            log.exception("flushing the paste of chat %s failed", chat_id)

    async def flush(self, bot_id: int, chat_id: int, seq: int) -> uuid.UUID | None:
        """Ingest the chat's buffered parts as one asset if no part came after `seq`."""
        meta_key, parts_key = self._keys(bot_id, chat_id)
        raw = await self.redis.hgetall(meta_key)
        meta = {_text(k): _text(v) for k, v in raw.items()}
        if meta.get("seq") != str(seq):
            return None  # a later part restarted the quiet window; its timer flushes
        parts = [_text(p) for p in await self.redis.lrange(parts_key, 0, -1)]
        chat = ChatRef("telegram", str(chat_id))
        status_id = meta.get("status_message_id")
        request = f"telegram:{chat_id}:{status_id}:{seq}"
        asset_id: uuid.UUID | None = None
        title = ""
        try:
            async with self.deps.sessionmaker() as session:
                user_id = uuid.UUID(meta["user_id"])
                existing = await session.scalar(
                    select(ContentAsset).where(
                        ContentAsset.user_id == user_id, ContentAsset.metadata_["paste_request"].astext == request
                    )
                )
                if existing is None:
                    asset = await content.ingest_text(
                        session=session,
                        store=self.deps.store,
                        user_id=user_id,
                        organization_id=uuid.UUID(meta["organization_id"]),
                        text=join_parts(parts),
                        source_platform="telegram",
                        limits=UploadLimits.from_settings(self.deps.settings),
                    )
                    asset.metadata_ = {
                        **(asset.metadata_ or {}),
                        "origin": "pasted",
                        "paste_request": request,
                        "parts": len(parts),
                    }
                    if status_id is not None:
                        chat_binding.bind_to_chat(asset, chat, status_id)
                    await session.commit()
                    asset_id, title = asset.id, asset.title
        except (RecastError, MediaError) as exc:
            await self._clear(meta_key, parts_key, seq)
            await self._tell(chat, status_id, f"⚠️ {exc.user_message}")
            return None
        except Exception:
            # Never leave "Got your text…" standing as if it were still coming: say it failed.
            log.exception("ingesting the paste of chat %s failed", chat_id)
            await self._clear(meta_key, parts_key, seq)
            await self._tell(
                chat, status_id, "⚠️ Something went wrong on our side with your text. Please paste it again."
            )
            return None
        await self._clear(meta_key, parts_key, seq)
        if asset_id is None:
            return None  # made by an earlier flush of this same buffer
        await self.deps.enqueue("pipeline.process_asset", asset_id=str(asset_id))
        await self._tell(chat, status_id, progress_text(progress.queued(title)))
        return asset_id

    async def _clear(self, meta_key: str, parts_key: str, seq: int) -> None:
        await self.redis.eval(_CLEAR_IF_UNCHANGED, 2, meta_key, parts_key, str(seq))

    async def _tell(self, chat: ChatRef, status_id: str | None, text: str) -> None:
        if status_id is not None:
            await self.deps.notifier.edit_text(chat, status_id, text)
        else:
            await self.deps.notifier.send(chat, OutgoingMessage(text))

    async def resume(self, bot: Bot) -> int:
        """Schedule the flush of every buffer a previous run left behind; return how many."""
        found = 0
        async for key in self.redis.scan_iter(match=f"{self.prefix}:tg:{bot.id}:paste:*:meta"):
            name = _text(key)
            chat_id = int(name.rsplit(":", 2)[-2])
            seq = await self.redis.hget(name, "seq")
            if seq is not None:
                self._schedule(bot.id, chat_id, int(seq), self.window_s)
                found += 1
        return found

    async def close(self) -> None:
        for task in list(self._timers):
            task.cancel()
        await asyncio.gather(*self._timers, return_exceptions=True)


def install_paste_buffer(dp: Dispatcher, buffer: PasteBuffer) -> None:
    """Make the buffer available to handlers as `paste`, resume it on start, stop its timers on stop."""
    dp["paste"] = buffer

    async def on_startup(bot: Bot, **_: Any) -> None:
        resumed = await buffer.resume(bot)
        if resumed:
            log.info("resuming %d unfinished paste(s)", resumed)

    async def on_shutdown(**_: Any) -> None:
        await buffer.close()

    dp.startup.register(on_startup)
    dp.shutdown.register(on_shutdown)
