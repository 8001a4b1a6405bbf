"""What operators ask of the work queue: list units, the stuck and failed ones, counts by state, the
oldest wait; re-drive a unit; purge old succeeded units."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.common.clock import utcnow
from core.work.models import UnitState, WorkUnit

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


async def units(
    session: AsyncSession, *, states: Sequence[UnitState] | None = None, kind: str | None = None, limit: int = 50
) -> list[WorkUnit]:
    stmt = select(WorkUnit).order_by(WorkUnit.updated_at.desc()).limit(limit)
    if states:
        stmt = stmt.where(WorkUnit.state.in_(states))
    if kind:
        stmt = stmt.where(WorkUnit.kind == kind)
    return list((await session.scalars(stmt)).all())


async def stuck_or_failed(session: AsyncSession, *, limit: int = 50) -> list[WorkUnit]:
    """Dead-lettered and failed units, units retrying (queued with a last error) and running ones past
    their lease: what an operator should look at."""
    stmt = (
        select(WorkUnit)
        .where(
            (WorkUnit.state.in_((UnitState.DEAD, UnitState.FAILED)))
            | ((WorkUnit.state == UnitState.QUEUED) & WorkUnit.last_error.is_not(None))
            | ((WorkUnit.state == UnitState.RUNNING) & (WorkUnit.leased_until < func.now()))
        )
        .order_by(WorkUnit.updated_at.desc())
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def redrive(session: AsyncSession, unit_id: uuid.UUID) -> bool:
    """Queue a failed, dead or waiting unit again now with a fresh attempt budget (operator's request)."""
    result = await session.execute(
        update(WorkUnit)
        .where(WorkUnit.id == unit_id, WorkUnit.state.in_((UnitState.DEAD, UnitState.FAILED, UnitState.QUEUED)))
        .values(
            state=UnitState.QUEUED,
            attempts=0,
            run_after=func.now(),
            enqueued_at=None,
            finished_at=None,
            leased_until=None,
            leased_by=None,
            updated_at=func.now(),
        )
    )
    return bool(getattr(result, "rowcount", 0))


async def counts_by_state(session: AsyncSession) -> dict[tuple[str, str], int]:
    rows = await session.execute(
        select(WorkUnit.kind, WorkUnit.state, func.count()).group_by(WorkUnit.kind, WorkUnit.state)
    )
    return {(kind, str(state)): n for kind, state, n in rows.all()}


async def oldest_waiting_age_s(session: AsyncSession) -> float:
    oldest = await session.scalar(
        select(func.min(WorkUnit.run_after)).where(WorkUnit.state == UnitState.QUEUED, WorkUnit.run_after <= func.now())
    )
    return max(0.0, (utcnow() - oldest).total_seconds()) if oldest else 0.0


async def nothing_due(session: AsyncSession) -> bool:
    """No unit queued or running (a test's or an operator's "has everything settled?")."""
    active = await session.scalar(
        select(func.count()).select_from(WorkUnit).where(WorkUnit.state.in_((UnitState.QUEUED, UnitState.RUNNING)))
    )
    return not active


async def purge_finished(session: AsyncSession, *, older_than: timedelta, limit: int = 5000) -> int:
    """Delete succeeded units finished longer ago than `older_than` (their dedupe key is no longer needed:
    every unit's work is idempotent). Failed and dead units stay for operators until re-driven."""
    result = await session.execute(
        text(
            "DELETE FROM work_units WHERE id IN (SELECT id FROM work_units WHERE state = 'succeeded' "
            "AND finished_at < now() - make_interval(secs => :age) LIMIT :limit)"
        ),
        {"age": older_than.total_seconds(), "limit": limit},
    )
    return int(getattr(result, "rowcount", 0) or 0)
