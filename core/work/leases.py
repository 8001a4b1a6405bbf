"""Holding a unit: claimed by one conditional UPDATE (so at most one worker holds it at a time), its
lease renewed by a heartbeat while it runs, its outcome written only while this worker still holds it,
and handed back unfinished at shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db.session import session_scope
from core.work.errors import is_transient
from core.work.models import UnitState, WorkUnit

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


DEFAULT_LEASE_S = 30.0


@dataclass(frozen=True)
class Claimed:
    id: uuid.UUID
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    # Who submitted it: the handler acts for this organization (None: as the tables' owner).
    organization_id: uuid.UUID | None = None


_CLAIM = text(
    """
    UPDATE work_units
       SET state = 'running', attempts = attempts + 1, leased_by = :worker,
           leased_until = now() + make_interval(secs => :lease), started_at = coalesce(started_at, now()),
           updated_at = now()
     WHERE id = :id
       AND ((state = 'queued' AND run_after <= now()) OR (state = 'running' AND leased_until < now()))
    RETURNING kind, payload, attempts, max_attempts, organization_id
    """
)


async def claim(
    sessionmaker: async_sessionmaker[AsyncSession], unit_id: uuid.UUID, *, worker: str, lease_s: float
) -> Claimed | None:
    async with session_scope(sessionmaker) as session:
        row = (await session.execute(_CLAIM, {"id": unit_id, "worker": worker, "lease": lease_s})).first()
    if row is None:
        return None
    return Claimed(unit_id, row.kind, dict(row.payload or {}), row.attempts, row.max_attempts, row.organization_id)


async def renew(
    sessionmaker: async_sessionmaker[AsyncSession], unit_id: uuid.UUID, *, worker: str, lease_s: float
) -> bool:
    """Extend the lease; False when this worker no longer holds it."""
    async with session_scope(sessionmaker) as session:
        result = await session.execute(
            update(WorkUnit)
            .where(WorkUnit.id == unit_id, WorkUnit.leased_by == worker, WorkUnit.state == UnitState.RUNNING)
            .values(leased_until=func.now() + timedelta(seconds=lease_s), updated_at=func.now())
        )
    return bool(getattr(result, "rowcount", 0))


async def settle(
    sessionmaker: async_sessionmaker[AsyncSession], unit_id: uuid.UUID, worker: str, values: dict[str, Any]
) -> bool:
    """Write a unit's outcome if this worker still holds it; retried through a database blip (the work
    itself is done or failed; if this never lands, the lease expires and the unit is simply re-run)."""
    for attempt in range(8):
        try:
            async with session_scope(sessionmaker) as session:
                result = await session.execute(
                    update(WorkUnit)
                    .where(WorkUnit.id == unit_id, WorkUnit.leased_by == worker, WorkUnit.state == UnitState.RUNNING)
                    .values(updated_at=func.now(), **values)
                )
            return bool(getattr(result, "rowcount", 0))
        except Exception as exc:
            if not is_transient(exc) or attempt == 7:
                log.warning("could not record the outcome of unit %s: %s", unit_id, exc)
                return False
            await asyncio.sleep(min(5.0, 0.25 * 2**attempt))
    return False


async def keep_lease(
    sessionmaker: async_sessionmaker[AsyncSession], unit_id: uuid.UUID, worker: str, lease_s: float
) -> None:
    """Renew the lease every third of it. Returns (ending the run) when the lease was taken over, or when
    renewals kept failing until the lease must be presumed expired."""
    last_renewed = time.monotonic()
    while True:
        await asyncio.sleep(lease_s / 3)
        try:
            if not await renew(sessionmaker, unit_id, worker=worker, lease_s=lease_s):
                return
            last_renewed = time.monotonic()
        except Exception as exc:
            if time.monotonic() - last_renewed > lease_s * 0.9:
                log.warning("unit %s: no lease renewal for %.0f s (%s)", unit_id, lease_s, exc)
                return


async def release(sessionmaker: async_sessionmaker[AsyncSession], unit_id: uuid.UUID, worker: str) -> None:
    """Hand an unfinished unit back at once (shutdown); the attempt is not counted against it."""
    with contextlib.suppress(Exception):
        async with session_scope(sessionmaker) as session:
            await session.execute(
                update(WorkUnit)
                .where(WorkUnit.id == unit_id, WorkUnit.leased_by == worker, WorkUnit.state == UnitState.RUNNING)
                .values(
                    state=UnitState.QUEUED,
                    attempts=WorkUnit.attempts - 1,
                    leased_until=None,
                    leased_by=None,
                    enqueued_at=None,
                    run_after=func.now(),
                    updated_at=func.now(),
                    last_error="released unfinished at worker shutdown",
                )
            )
        log.info("unit %s released at shutdown", unit_id)
