"""When to post: suggested slots, and the times creators type, in their own timezone (stored as UTC).

Suggestions come from the account's own results once it has enough of them (engagement of its published
posts by weekday and hour), and until then from published per-platform priors for the audience's local
time; the prior fades as results come in (weight n / (n + PRIOR_WEIGHT)). Each suggestion says which it
is, so an estimate is never shown as a measurement. Cached in Redis under `optimal_times:{owner}:{platform}`.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.analytics.models import EngagementMetric
from core.common.clock import utcnow
from core.common.errors import RecastError
from core.distribution.models import PostStatus, ScheduledPost
from core.distribution.platforms.names import Platform, label

PRIOR_WEIGHT = 20  # posts of the account's own before its results count as much as the prior
CACHE_TTL_S = 6 * 3600
MIN_LEAD = timedelta(minutes=10)

# Typical strong windows (local time of the audience) from schedulers' published studies of engagement by
# hour: weekdays 0=Monday. Scores are relative within a platform; they are priors, not this account's data.
PRIORS: dict[Platform, dict[tuple[int, int], float]] = {
    Platform.LINKEDIN: {(d, h): s for d in (1, 2, 3) for h, s in ((8, 0.9), (9, 1.0), (10, 0.95), (12, 0.8))},
    Platform.X: {(d, h): s for d in (1, 2, 3) for h, s in ((9, 1.0), (10, 0.95), (12, 0.85), (17, 0.8))},
    Platform.INSTAGRAM: {(d, h): s for d in (1, 2, 3, 4) for h, s in ((11, 0.9), (13, 0.95), (19, 1.0))},
    Platform.YOUTUBE: {(d, h): s for d in (4, 5, 6) for h, s in ((15, 0.9), (17, 1.0), (19, 0.95))},
    Platform.TIKTOK: {(d, h): s for d in (1, 2, 3, 4) for h, s in ((14, 0.85), (18, 0.95), (20, 1.0))},
    Platform.FACEBOOK: {(d, h): s for d in (1, 2, 3) for h, s in ((9, 0.95), (12, 1.0), (15, 0.85))},
}


class TimeNotUnderstood(RecastError):
    user_message = (
        "I couldn't read that time. Try e.g. “tomorrow 9:30”, “fri 18:00”, “2026-12-05 18:00” or “in 2 hours”."
    )


class TimeInPast(RecastError):
    user_message = "That time has already passed. Pick a time at least ten minutes from now."


@dataclass(frozen=True)
class Slot:
    at: datetime  # UTC
    score: float
    source: str  # "your results" | "typical for <platform>"


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "Asia/Kolkata")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Kolkata")


def _local_to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    """A wall-clock time in `tz` as UTC. A time skipped by a DST change moves forward past the gap; an
    ambiguous one (clocks going back) is its first occurrence."""
    # fold=0 does both: a gap time is read with the offset before the change (so it lands after the gap),
    # an ambiguous one as its first occurrence.
    return datetime.combine(day, at, tzinfo=tz).astimezone(ZoneInfo("UTC"))


async def _own_results(
    session: AsyncSession, user_id: uuid.UUID, platform: Platform, tz: ZoneInfo
) -> tuple[int, dict[tuple[int, int], float]]:
    """Mean engagement (likes + comments + shares + saves, latest reading per post) by local weekday and
    hour of the account's published posts on `platform`."""
    latest = (
        select(
            EngagementMetric.generated_content_id,
            func.max(
                EngagementMetric.likes + EngagementMetric.comments + EngagementMetric.shares + EngagementMetric.saves
            ).label("engaged"),
        )
        .group_by(EngagementMetric.generated_content_id)
        .subquery()
    )
    rows = (
        await session.execute(
            select(ScheduledPost.published_at, latest.c.engaged)
            .join(latest, latest.c.generated_content_id == ScheduledPost.generated_content_id)
            .where(
                ScheduledPost.user_id == user_id,
                ScheduledPost.platform == platform,
                ScheduledPost.status == PostStatus.PUBLISHED,
            )
        )
    ).all()
    buckets: dict[tuple[int, int], list[float]] = {}
    for published_at, engaged in rows:
        local = published_at.astimezone(tz)
        buckets.setdefault((local.weekday(), local.hour), []).append(float(engaged or 0))
    top = max((sum(v) / len(v) for v in buckets.values()), default=0.0) or 1.0
    return len(rows), {k: (sum(v) / len(v)) / top for k, v in buckets.items()}


async def suggest(
    session: AsyncSession, redis: Redis, *, user_id: uuid.UUID, platform: Platform, timezone: str, count: int = 3
) -> list[Slot]:
    """The next `count` good slots in the coming week, at least ten minutes ahead, one per day at most."""
    key = f"optimal_times:{user_id}:{platform}"
    cached = await redis.get(key)
    if cached:
        weights = {tuple(map(int, k.split(":"))): v for k, v in json.loads(cached)["weights"].items()}
        n = int(json.loads(cached)["n"])
    else:
        tz = zone(timezone)
        n, own = await _own_results(session, user_id, platform, tz)
        share = n / (n + PRIOR_WEIGHT)
        prior = PRIORS[platform]
        weights = {k: (1 - share) * prior.get(k, 0.0) + share * own.get(k, 0.0) for k in set(prior) | set(own)}
        await redis.set(
            key, json.dumps({"n": n, "weights": {f"{d}:{h}": v for (d, h), v in weights.items()}}), ex=CACHE_TTL_S
        )
    source = "your results" if n >= PRIOR_WEIGHT else f"typical for {label(platform)}"
    tz = zone(timezone)
    now = utcnow()
    candidates: list[Slot] = []
    today = now.astimezone(tz).date()
    for offset in range(8):
        day = today + timedelta(days=offset)
        for (weekday, hour), score in weights.items():
            if weekday != day.weekday() or score <= 0:
                continue
            at = _local_to_utc(day, time(hour), tz)
            if at >= now + MIN_LEAD:
                candidates.append(Slot(at, score, source))
    best_per_day: dict[date, Slot] = {}
    for slot in candidates:
        day = slot.at.astimezone(tz).date()
        if day not in best_per_day or slot.score > best_per_day[day].score:
            best_per_day[day] = slot
    ranked = sorted(best_per_day.values(), key=lambda s: (-s.score, s.at))[:count]
    return sorted(ranked, key=lambda s: s.at)


_WEEKDAYS = {
    name: i
    for i, names in enumerate(
        (
            ("mon", "monday"),
            ("tue", "tues", "tuesday"),
            ("wed", "wednesday"),
            ("thu", "thur", "thurs", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        )
    )
    for name in names
}
_CLOCK = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)?$")


def _clock(text: str) -> time:
    match = _CLOCK.match(text.strip().lower())
    if not match:
        raise TimeNotUnderstood()
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if half:
        if not 1 <= hour <= 12:
            raise TimeNotUnderstood()
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        raise TimeNotUnderstood()
    return time(hour, minute)


def parse_when(text: str, timezone: str, *, now: datetime | None = None) -> datetime:
    """A time the creator typed, read in their timezone, as UTC. Refuses times less than ten minutes ahead."""
    tz = zone(timezone)
    now = now or utcnow()
    today = now.astimezone(tz).date()
    words = text.strip().lower().replace(",", " ").split()
    if not words:
        raise TimeNotUnderstood()
    relative = re.fullmatch(r"in (\d+) ?(minutes?|mins?|hours?|hrs?|h|m|days?|d)", " ".join(words))
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2)[0]
        at = now + {"m": timedelta(minutes=amount), "h": timedelta(hours=amount), "d": timedelta(days=amount)}[unit]
    else:
        head, rest = words[0], " ".join(words[1:])
        if head in ("today", "tomorrow"):
            day = today + timedelta(days=1 if head == "tomorrow" else 0)
        elif head in _WEEKDAYS:
            ahead = (_WEEKDAYS[head] - today.weekday()) % 7
            day = today + timedelta(days=ahead)
        else:
            try:
                day = date.fromisoformat(head)
            except ValueError:
                raise TimeNotUnderstood() from None
        at = _local_to_utc(day, _clock(rest or "9:00"), tz)
        if head in _WEEKDAYS and at < now + MIN_LEAD:
            at = _local_to_utc(day + timedelta(days=7), _clock(rest or "9:00"), tz)
    if at < now + MIN_LEAD:
        raise TimeInPast()
    return at
