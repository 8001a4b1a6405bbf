"""Figures of a flood test: what was sent, what was refused, what work and charges it caused.

Each flood test prints one `FLOOD door=... sent=... refused=... work_units=... charged=...` line;
`bench/floods.py` runs the flood tests and tabulates those lines (the tests assert the behaviour).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.billing.models import UsageTracking
from core.content.models import ContentAsset
from core.work.models import WorkUnit


@dataclass
class Figures:
    door: str
    sent: int
    refused: int
    admitted: int
    work_units: int
    uploads_charged: int
    credits_charged: int

    def line(self) -> str:
        return (
            f"FLOOD door={self.door} sent={self.sent} refused={self.refused} admitted={self.admitted} "
            f"work_units={self.work_units} uploads_charged={self.uploads_charged} "
            f"credits_charged={self.credits_charged}"
        )


async def assets_of(session: AsyncSession, user_id: uuid.UUID) -> list[uuid.UUID]:
    return list((await session.scalars(select(ContentAsset.id).where(ContentAsset.user_id == user_id))).all())


async def work_units_mentioning(session: AsyncSession, needles: Iterable[str], since: datetime) -> int:
    """Work units created since `since` whose payload names one of `needles` (asset ids, chat ids...)."""
    terms = [n for n in needles if n]
    if not terms:
        return 0
    payload = cast(WorkUnit.payload, String)
    return int(
        await session.scalar(
            select(func.count())
            .select_from(WorkUnit)
            .where(WorkUnit.created_at >= since, or_(*(payload.contains(t) for t in terms)))
        )
        or 0
    )


async def charged(session: AsyncSession, user_id: uuid.UUID) -> tuple[int, int]:
    """(uploads, AI credits) counted against the user's plan, all periods."""
    row = (
        await session.execute(
            select(
                func.coalesce(func.sum(UsageTracking.content_uploads), 0),
                func.coalesce(func.sum(UsageTracking.ai_credits_used), 0),
            ).where(UsageTracking.user_id == user_id)
        )
    ).one()
    return int(row[0]), int(row[1])


async def figures_for_user(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    door: str,
    sent: int,
    refused: int,
    user_id: uuid.UUID | None,
    since: datetime,
    needles: Iterable[str] = (),
    show: bool = True,
) -> Figures:
    async with sessionmaker() as session:
        assets = await assets_of(session, user_id) if user_id else []
        units = await work_units_mentioning(session, [*map(str, assets), *needles], since)
        uploads, credits = await charged(session, user_id) if user_id else (0, 0)
    figures = Figures(door, sent, refused, sent - refused, units, uploads, credits)
    if show:
        print(figures.line())
    return figures
