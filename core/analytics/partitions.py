"""Yearly partitions of `engagement_metrics` (the SQL function lives in the initial migration)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def ensure_engagement_partitions(*, session: AsyncSession, years_ahead: int = 2) -> None:
    """Create the partitions from last year to `years_ahead` years from now, if missing (idempotent).

    Runs in the caller's transaction; the caller commits. Rows of a year that landed in the DEFAULT
    partition before its yearly partition existed are moved into it.
    """
    if years_ahead < 0:
        raise ValueError("years_ahead must be >= 0")
    year = datetime.now(UTC).year
    await session.execute(
        text("SELECT recast_ensure_engagement_partitions(:from_year, :to_year)"),
        {"from_year": year - 1, "to_year": year + years_ahead},
    )
