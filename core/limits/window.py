"""A sliding-window limit on Redis, one round trip per check (schema.md's `ratelimit:{user}:{endpoint}`).

Each key is a sorted set of the hits admitted in the last `window_s` seconds (score: Redis server time in
ms, so web processes on several machines agree), with a TTL of one window. A hit past the limit is not
recorded, so a flood cannot push its own window forward: the limit lifts `window_s` after the oldest
admitted hit. A hit may carry an `item` (a Slack file id): the same item seen twice (`file_shared` and
the `message` carrying it) counts once and gets the same verdict while it is in the window.

The first refusal of a window sets `{key}:told` (same TTL): the adapter answers "slow down" once and
drops the rest silently.

Redis down: the check fails open (the request is allowed) and logs one WARNING per outage, so a Redis
restart never takes the bot or the web port down; the limits come back with Redis.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# KEYS: the window set, its "told" marker. ARGV: window ms, limit, member, 1 = count the hit / 0 = only look.
# Returns {allowed (0/1), hits in the window, retry after ms, first refusal of the window (0/1)}.
_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then
  return {1, redis.call('ZCARD', KEYS[1]), 0, 0}
end
local n = redis.call('ZCARD', KEYS[1])
if n < limit then
  if ARGV[4] == '0' then return {1, n, 0, 0} end
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, n + 1, 0, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local wait = window
if oldest[2] then wait = math.max(1, tonumber(oldest[2]) + window - now) end
local first = redis.call('SET', KEYS[2], '1', 'NX', 'PX', wait)
return {0, n, wait, first and 1 or 0}
"""


@dataclass(frozen=True, slots=True)
class Rule:
    """`limit` hits per `window_s` seconds at one endpoint ("message", "upload", "web"...)."""

    endpoint: str
    limit: int
    window_s: int


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    hits: int  # in the window, this one included when allowed
    retry_after_s: int  # 0 when allowed
    first_refusal: bool  # the one refusal of the window that gets a "slow down" answer
    checked: bool = True  # False: Redis was unreachable and the hit was let through


ALLOWED_UNCHECKED = Verdict(allowed=True, hits=0, retry_after_s=0, first_refusal=False, checked=False)


def key_for(subject: str, endpoint: str, namespace: str = "") -> str:
    """`ratelimit:{subject}:{endpoint}` (after `{namespace}:` when several instances share one Redis);
    colons inside the subject (IPv6) are replaced so the shape holds."""
    key = f"ratelimit:{subject.replace(':', '_')}:{endpoint}"
    return f"{namespace}:{key}" if namespace else key


class RateLimiter:
    """Checks hits against rules; one instance per process (it remembers whether Redis is down)."""

    def __init__(self, redis: Redis, *, namespace: str = "") -> None:
        self._script = redis.register_script(_SCRIPT)
        self._namespace = namespace
        self._down = False

    async def hit(self, subject: str, rule: Rule, *, item: str | None = None) -> Verdict:
        """Count one hit of `subject` at `rule.endpoint` (or refuse it); fails open when Redis is down."""
        return await self._run(subject, rule, item, count=True)

    async def check(self, subject: str, rule: Rule) -> Verdict:
        """Whether `subject` is over the limit, without counting a hit (for limits on refusals only)."""
        return await self._run(subject, rule, None, count=False)

    async def _run(self, subject: str, rule: Rule, item: str | None, *, count: bool) -> Verdict:
        if rule.limit <= 0:
            return ALLOWED_UNCHECKED  # 0 = no limit at this endpoint
        key = key_for(subject, rule.endpoint, self._namespace)
        member = item or uuid.uuid4().hex
        try:
            allowed, hits, wait_ms, first = await self._script(
                keys=[key, f"{key}:told"], args=[rule.window_s * 1000, rule.limit, member, 1 if count else 0]
            )
        except (RedisError, OSError) as exc:
            if not self._down:
                log.warning("rate limits are off until Redis answers again (failing open): %s", exc)
            self._down = True
            return ALLOWED_UNCHECKED
        if self._down:
            log.info("Redis answers again: rate limits are back on")
            self._down = False
        retry = -(-int(wait_ms) // 1000)  # ceil: "try again in 0 s" would be a lie
        return Verdict(bool(allowed), int(hits), retry, bool(first))


def wait_text(seconds: int) -> str:
    return f"{seconds} s" if seconds < 120 else f"{-(-seconds // 60)} min"


def slow_down(retry_after_s: int, *, what: str = "messages") -> str:
    """The one polite answer a flood gets per window."""
    return (
        f"You're sending {what} faster than I can take them. Please slow down and try again in "
        f"{wait_text(retry_after_s)}: what you sent in between was not processed and costs you nothing."
    )
