"""Time helpers: Recast stores UTC instants; users' timezones apply only when rendering."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_time(instant: datetime, timezone: str | None) -> datetime:
    return instant.astimezone(ZoneInfo(timezone or "Asia/Kolkata"))
