"""When a client's weekly digest is due (09:00 to midnight on its own Monday) and which instants bound the
weeks it compares (local Mondays at midnight, each with its own UTC offset)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from core.analytics.digest import closed_week, digest_due


def utc(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "timezone", "due"),
    [
        (utc(30, 14, 5), "America/New_York", date(2026, 11, 30)),  # Monday 09:05 EST
        (utc(30, 13, 55), "America/New_York", None),  # Monday 08:55
        (utc(1, 4, 59, month=12), "America/New_York", date(2026, 11, 30)),  # Monday 23:59
        (utc(1, 5, 0, month=12), "America/New_York", None),  # Tuesday 00:00
        (utc(30, 3, 30), "Asia/Kolkata", date(2026, 11, 30)),  # Monday 09:00 IST
        (utc(30, 3, 29), "Asia/Kolkata", None),
        (utc(29, 20, 30), "Pacific/Auckland", date(2026, 11, 30)),  # Monday 09:30 NZDT, while UTC is on Sunday
        (utc(29, 20, 30), "America/New_York", None),  # the same instant is Sunday afternoon in New York
        (utc(23, 14, 5), "America/New_York", date(2026, 11, 23)),  # the Monday before: its own week
    ],
)
def test_the_digest_is_due_from_nine_on_the_clients_own_monday(now: datetime, timezone: str, due: date | None) -> None:
    assert digest_due(now, timezone) == due


def test_the_weeks_are_local_mondays_at_midnight_even_across_a_dst_change() -> None:
    # US daylight saving time ended on Sunday 1 November 2026: that week is 169 hours long.
    before, start, end = closed_week(date(2026, 11, 2), "America/New_York")
    assert (before, start, end) == (
        datetime(2026, 10, 19, 4, tzinfo=UTC),
        datetime(2026, 10, 26, 4, tzinfo=UTC),  # 00:00 EDT
        datetime(2026, 11, 2, 5, tzinfo=UTC),  # 00:00 EST
    )
    # (Aware datetimes in one zone subtract as wall times in Python, so compare the instants in UTC.)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(days=7, hours=1)
    assert start.astimezone(UTC) - before.astimezone(UTC) == timedelta(days=7)
