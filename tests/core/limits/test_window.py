"""The sliding window on a real Redis: limit, one "told" per window, items counted once, fail open."""

from __future__ import annotations

import logging
import uuid

import pytest
from redis.asyncio import Redis

from core.limits.window import RateLimiter, Rule, key_for


def subject() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


async def test_a_flood_past_the_limit_is_refused_and_told_once(redis_client) -> None:
    limiter, who, rule = RateLimiter(redis_client), subject(), Rule("message", 3, 60)
    verdicts = [await limiter.hit(who, rule) for _ in range(10)]
    assert [v.allowed for v in verdicts] == [True] * 3 + [False] * 7
    assert [v.first_refusal for v in verdicts].count(True) == 1 and verdicts[3].first_refusal
    assert all(1 <= v.retry_after_s <= 60 for v in verdicts[3:])
    key = key_for(who, "message")
    assert key == f"ratelimit:{who}:message"
    # Refused hits are not recorded: the window holds the admitted ones, with a TTL.
    assert await redis_client.zcard(key) == 3
    assert 0 < await redis_client.pttl(key) <= 60_000
    assert 0 < await redis_client.pttl(f"{key}:told") <= 60_000


async def test_the_window_slides_and_subjects_and_endpoints_are_apart(redis_client) -> None:
    limiter, who, rule = RateLimiter(redis_client), subject(), Rule("upload", 2, 1)
    assert (await limiter.hit(who, rule)).allowed and (await limiter.hit(who, rule)).allowed
    assert not (await limiter.hit(who, rule)).allowed
    assert (await limiter.hit(subject(), rule)).allowed  # another user
    assert (await limiter.hit(who, Rule("message", 2, 1))).allowed  # another endpoint
    await redis_client.delete(key_for(who, "upload"))  # what the TTL does a second later
    assert (await limiter.hit(who, rule)).allowed


async def test_the_same_item_counts_once_and_check_does_not_count(redis_client) -> None:
    limiter, who, rule = RateLimiter(redis_client), subject(), Rule("upload", 2, 60)
    assert (await limiter.hit(who, rule, item="F1")).allowed
    assert (await limiter.hit(who, rule, item="F1")).allowed  # file_shared and message of one file
    assert (await limiter.hit(who, rule, item="F2")).allowed
    assert not (await limiter.hit(who, rule, item="F3")).allowed
    assert (await limiter.hit(who, rule, item="F1")).allowed  # still the admitted file
    refusals = Rule("refused", 2, 60)
    for _ in range(5):
        assert (await limiter.check(who, refusals)).allowed
    assert await redis_client.zcard(key_for(who, "refused")) == 0
    await limiter.hit(who, refusals)
    await limiter.hit(who, refusals)
    assert not (await limiter.check(who, refusals)).allowed


async def test_a_zero_limit_is_no_limit(redis_client) -> None:
    limiter = RateLimiter(redis_client)
    assert all([(await limiter.hit(subject(), Rule("message", 0, 60))).allowed for _ in range(5)])


async def test_redis_down_fails_open_with_one_log_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="core.limits.window")
    dead = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    limiter = RateLimiter(dead)
    verdicts = [await limiter.hit(subject(), Rule("message", 1, 60)) for _ in range(5)]
    await dead.aclose()
    assert all(v.allowed and not v.checked for v in verdicts)
    warnings = [r for r in caplog.records if r.name == "core.limits.window" and r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "failing open" in warnings[0].getMessage()
