"""Outbound pacing for the Bot API: about one message per second per chat, about thirty per second overall.

Telegram throttles a bot that writes faster: it answers HTTP 429 with ``parameters.retry_after``
(aiogram raises `TelegramRetryAfter`). `Pacer.run` wraps one API call for one chat
(`Pacer.hold` several, such as the parts of one long message, which then stay together):

* calls for the same chat run one at a time, in the order they were made (a FIFO lock per chat), each
  waiting for that chat's next free slot; calls for other chats never wait on that lock;
* every call then takes a slot of the bot-wide schedule, so all chats together stay under `overall`;
* a 429 holds that chat for ``retry_after`` seconds and the same call is made again (nothing is lost),
  up to `retries` times; a longer wait than `max_retry_after`, or more 429s than that, re-raise the
  `TelegramRetryAfter` for the caller (the notifier turns it into ``SendFailed(retry=True)``, so the
  outbox tries again later instead of a worker sleeping for minutes).

Slots follow the generic cell rate algorithm: a chat may send `burst` messages at once, then one per
``1 / per_second`` seconds; a chat that was quiet long enough gets its burst back.

The state lives in this process. Where web, bot and worker processes run apart, each one paces its own
sends; a chat written to by two processes at the same moment can briefly get up to twice its rate, which
Telegram answers with a 429 that the process receiving it waits out as above, so the cost is a delay,
never a lost message. Sharing the schedule through Redis would remove that delay at the price of a
round trip per message; the `Pacer` is the one place to change for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from aiogram.exceptions import TelegramRetryAfter

log = logging.getLogger(__name__)
T = TypeVar("T")
_PRUNE_AT = 1024  # schedules kept before idle ones are dropped


@dataclass(frozen=True)
class Rate:
    """``per_second`` messages per second on average, ``burst`` of them back to back."""

    per_second: float
    burst: int = 1

    def __post_init__(self) -> None:
        if self.per_second <= 0 or self.burst < 1:
            raise ValueError(f"a rate needs per_second > 0 and burst >= 1, not {self}")

    @property
    def interval(self) -> float:
        return 1.0 / self.per_second


PRIVATE_CHAT_RATE = Rate(1.0, burst=3)
GROUP_CHAT_RATE = Rate(20 / 60, burst=3)  # Telegram: at most 20 messages a minute into one group
OVERALL_RATE = Rate(30.0, burst=1)


class Schedule:
    """When the next call may go out under one `Rate` (GCRA: a theoretical arrival time)."""

    def __init__(self, rate: Rate) -> None:
        self.rate = rate
        self._tolerance = (rate.burst - 1) * rate.interval
        self._tat = -math.inf

    def reserve(self, now: float) -> float:
        """Take the next slot; returns the time at which the call may be made (``now`` or later)."""
        at = max(now, self._tat - self._tolerance)
        self._tat = max(self._tat, at) + self.rate.interval
        return at

    def hold_until(self, when: float) -> None:
        """No slot before ``when`` (Telegram asked us to wait), and no burst right after it."""
        self._tat = max(self._tat, when + self._tolerance)

    def idle(self, now: float) -> bool:
        """True when this schedule is no different from a fresh one."""
        return self._tat <= now


class Pacer:
    def __init__(
        self,
        *,
        per_chat: Rate = PRIVATE_CHAT_RATE,
        per_group: Rate | None = GROUP_CHAT_RATE,
        overall: Rate = OVERALL_RATE,
        retries: int = 5,
        max_retry_after: float = 30.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """`per_group` applies to group chats (negative ids); None uses `per_chat` for them too."""
        self.per_chat, self.per_group, self.overall = per_chat, per_group or per_chat, overall
        self.retries, self.max_retry_after = retries, max_retry_after
        self._clock = clock
        self._overall = Schedule(overall)
        self._schedules: dict[int | str, Schedule] = {}
        self._locks: weakref.WeakValueDictionary[int | str, asyncio.Lock] = weakref.WeakValueDictionary()

    def now(self) -> float:
        return self._clock() if self._clock is not None else asyncio.get_running_loop().time()

    def _lock(self, chat_id: int | str) -> asyncio.Lock:
        lock = self._locks.get(chat_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[chat_id] = lock
        return lock

    def schedule(self, chat_id: int | str) -> Schedule:
        found = self._schedules.get(chat_id)
        if found is None:
            if len(self._schedules) >= _PRUNE_AT:
                now = self.now()
                for key in [k for k, s in self._schedules.items() if s.idle(now)]:
                    del self._schedules[key]
            group = isinstance(chat_id, int) and chat_id < 0
            found = self._schedules[chat_id] = Schedule(self.per_group if group else self.per_chat)
        return found

    async def _sleep_until(self, at: float) -> None:
        delay = at - self.now()
        if delay > 0:
            await asyncio.sleep(delay)

    @contextlib.asynccontextmanager
    async def hold(self, chat_id: int | str) -> AsyncIterator[ChatTurn]:
        """The chat to ourselves: calls made through the `ChatTurn` go out back to back, in order, with
        no other call to that chat in between (a message sent in several parts stays together)."""
        async with self._lock(chat_id):
            yield ChatTurn(self, chat_id)

    async def run(self, chat_id: int | str, call: Callable[[], Awaitable[T]]) -> T:
        """Make ``call`` (one Bot API request to ``chat_id``) when the rates allow; wait out 429s."""
        async with self.hold(chat_id) as turn:
            return await turn.call(call)


class ChatTurn:
    """Calls to one chat while its lock is held (see `Pacer.hold`)."""

    def __init__(self, pacer: Pacer, chat_id: int | str) -> None:
        self.pacer, self.chat_id = pacer, chat_id

    async def call(self, call: Callable[[], Awaitable[T]]) -> T:
        pacer, chat_id = self.pacer, self.chat_id
        attempt = 0
        while True:
            await pacer._sleep_until(pacer.schedule(chat_id).reserve(pacer.now()))
            await pacer._sleep_until(pacer._overall.reserve(pacer.now()))
            try:
                return await call()
            except TelegramRetryAfter as exc:
                attempt += 1
                if attempt > pacer.retries or exc.retry_after > pacer.max_retry_after:
                    log.warning(
                        "telegram 429 chat=%s retry_after=%ss attempt=%d: giving up for now",
                        chat_id,
                        exc.retry_after,
                        attempt,
                    )
                    raise
                log.info("telegram 429 chat=%s retry_after=%ss attempt=%d", chat_id, exc.retry_after, attempt)
                pacer.schedule(chat_id).hold_until(pacer.now() + exc.retry_after)
