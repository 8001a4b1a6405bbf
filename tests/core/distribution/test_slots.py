"""Times are read and suggested in the creator's timezone and stored as UTC, across DST changes; the
suggestions say they are typical times until the account has results of its own."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from core.distribution import slots
from core.distribution.platforms.names import Platform

# A Monday, 10:00 in Kolkata.
MONDAY = datetime(2026, 12, 7, 4, 30, tzinfo=UTC)


def test_kolkata_times_are_read_in_kolkata_and_stored_as_utc() -> None:
    assert slots.parse_when("tomorrow 9:30", "Asia/Kolkata", now=MONDAY) == datetime(2026, 12, 8, 4, 0, tzinfo=UTC)
    assert slots.parse_when("2026-12-09 6pm", "Asia/Kolkata", now=MONDAY) == datetime(2026, 12, 9, 12, 30, tzinfo=UTC)
    assert slots.parse_when("in 2 hours", "Asia/Kolkata", now=MONDAY) == datetime(2026, 12, 7, 6, 30, tzinfo=UTC)
    # "mon 9:00" on a Monday after 9:00 is next Monday, not the past.
    assert slots.parse_when("mon 9:00", "Asia/Kolkata", now=MONDAY) == datetime(2026, 12, 14, 3, 30, tzinfo=UTC)


def test_new_york_times_follow_the_march_dst_change() -> None:
    before = datetime(2027, 3, 12, 15, 0, tzinfo=UTC)  # Friday 10:00 EST
    # Saturday 9:00 is still EST (UTC-5); Monday 9:00 is EDT (UTC-4), the clocks having gone forward on Sunday.
    assert slots.parse_when("sat 9:00", "America/New_York", now=before) == datetime(2027, 3, 13, 14, 0, tzinfo=UTC)
    assert slots.parse_when("mon 9:00", "America/New_York", now=before) == datetime(2027, 3, 15, 13, 0, tzinfo=UTC)
    # 02:30 on the change day does not exist there; it is read as 03:30 EDT, after the gap.
    assert slots.parse_when("2027-03-14 2:30", "America/New_York", now=before) == datetime(
        2027, 3, 14, 7, 30, tzinfo=UTC
    )


@pytest.mark.parametrize("typed", ["yesterday", "25:00 tomorrow", "tomorrow 25:00", "soon", ""])
def test_what_isnt_a_time_gets_examples(typed: str) -> None:
    with pytest.raises(slots.TimeNotUnderstood) as refused:
        slots.parse_when(typed, "Asia/Kolkata", now=MONDAY)
    assert "tomorrow 9:30" in refused.value.user_message


def test_a_time_already_past_is_refused() -> None:
    with pytest.raises(slots.TimeInPast):
        slots.parse_when("today 9:00", "Asia/Kolkata", now=MONDAY)


async def test_suggestions_are_typical_times_in_the_creators_zone_until_it_has_results(session, redis_client) -> None:
    user = uuid.uuid4()
    await redis_client.delete(f"optimal_times:{user}:linkedin")
    suggested = await slots.suggest(
        session, redis_client, user_id=user, platform=Platform.LINKEDIN, timezone="Asia/Kolkata"
    )
    assert len(suggested) == 3
    kolkata = [s.at.astimezone(ZoneInfo("Asia/Kolkata")) for s in suggested]
    assert all(t.weekday() in (1, 2, 3) and t.hour == 9 for t in kolkata)  # Tue-Thu 9:00, LinkedIn's prior peak
    assert {s.source for s in suggested} == {"typical for LinkedIn"}
    assert await redis_client.ttl(f"optimal_times:{user}:linkedin") > 0
