"""The wake-up channel between submitters and workers: a Redis list of unit ids.

Why not taskiq's receiver: it acknowledges a task cancelled at shutdown as done, and its list listener
retries a lost connection in a busy loop. Here the database holds the work, so the queue only has to
be cheap and forgiving: a lost id is pushed again by the sweeper, a duplicate id fails its claim.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Protocol

import redis.exceptions
from redis.asyncio import Redis

log = logging.getLogger(__name__)


class WorkQueue(Protocol):
    async def push(self, unit_ids: Sequence[str]) -> None: ...

    async def pop(self, timeout_s: float) -> str | None: ...

    async def depth(self) -> int: ...


class RedisWorkQueue:
    """LPUSH / BRPOP on one list. `pop` waits at most `timeout_s` (so a stopping worker never abandons a
    message mid-read) and rides out a Redis outage with backoff and one log line per outage."""

    def __init__(self, redis: Redis, name: str) -> None:
        self.redis = redis
        self.name = name
        self._down_since: float | None = None
        self._backoff = 0.1

    async def push(self, unit_ids: Sequence[str]) -> None:
        if unit_ids:
            await self.redis.lpush(self.name, *unit_ids)

    async def pop(self, timeout_s: float) -> str | None:
        try:
            item = await self.redis.brpop([self.name], timeout=max(1, round(timeout_s)))
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
            if self._down_since is None:
                self._down_since = time.monotonic()
                log.warning("work queue: Redis unreachable (%s); retrying with backoff", exc)
            await asyncio.sleep(self._backoff)
            self._backoff = min(5.0, self._backoff * 2)
            return None
        if self._down_since is not None:
            log.warning("work queue: Redis back after %.1f s", time.monotonic() - self._down_since)
            self._down_since, self._backoff = None, 0.1
        if item is None:
            return None
        value = item[1]
        return value.decode() if isinstance(value, bytes) else str(value)

    async def depth(self) -> int:
        return int(await self.redis.llen(self.name))
