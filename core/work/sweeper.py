"""Sweeping: re-drive what fell through — expired leases back to queued (or dead-lettered), due units
without a live message pushed again, and rows that need work but have no unit adopted (per domain)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.session import acting_or_maintenance, as_maintenance, session_scope
from core.work.models import UnitState
from core.work.queue import WorkQueue
from core.work.runner import call_give_up
from core.work.submit import push

if TYPE_CHECKING:
    from core.deps import CoreDeps

log = logging.getLogger(__name__)


# How long a queued unit may wait after its message was pushed before the sweeper pushes another
# (the first may have been lost with a Redis restart or never sent).
DEFAULT_REPUSH_AFTER_S = 60.0


Adopter = Callable[[AsyncSession], Awaitable[int]]
ADOPTERS: dict[str, Adopter] = {}
"""Per domain: turn rows that need work but have no unit (e.g. a stored gateway event whose unit insert
never happened) into units. Each is an idempotent INSERT ... ON CONFLICT DO NOTHING."""


def adopter(name: str) -> Callable[[Adopter], Adopter]:
    def register(func: Adopter) -> Adopter:
        ADOPTERS[name] = func
        return func

    return register


@dataclass
class SweepReport:
    expired: int = 0
    dead: int = 0
    pushed: int = 0
    adopted: int = 0


_EXPIRE = text(
    """
    UPDATE work_units
       SET state = CASE WHEN attempts >= max_attempts THEN 'dead'::work_unit_state ELSE 'queued'::work_unit_state END,
           finished_at = CASE WHEN attempts >= max_attempts THEN now() END,
           leased_until = NULL, leased_by = NULL, enqueued_at = NULL, run_after = now(), updated_at = now(),
           last_error = 'the worker running it stopped (lease expired at ' || leased_until::text || ')'
     WHERE id IN (SELECT id FROM work_units WHERE state = 'running' AND leased_until < now()
                  ORDER BY leased_until LIMIT 500 FOR UPDATE SKIP LOCKED)
    RETURNING id, kind, payload, state::text AS state, last_error, organization_id
    """
)

_DUE = text(
    """
    UPDATE work_units SET enqueued_at = now()
     WHERE id IN (SELECT id FROM work_units
                   WHERE state = 'queued' AND run_after <= now()
                     AND (enqueued_at IS NULL OR enqueued_at < now() - make_interval(secs => :repush))
                   ORDER BY run_after LIMIT :limit FOR UPDATE SKIP LOCKED)
    RETURNING id
    """
)


async def sweep(
    deps: CoreDeps, queue: WorkQueue | None, *, repush_after_s: float = DEFAULT_REPUSH_AFTER_S, limit: int = 1000
) -> SweepReport:
    """Re-drive what fell through: expired leases back to queued (or dead), due units without a live
    message pushed again, orphaned domain rows adopted. Safe to run in every process at once. It spans every
    organization by design, so it runs as maintenance (its give-up hooks act for each unit's organization)."""
    with as_maintenance():
        return await _sweep(deps, queue, repush_after_s=repush_after_s, limit=limit)


async def _sweep(deps: CoreDeps, queue: WorkQueue | None, *, repush_after_s: float, limit: int) -> SweepReport:
    report = SweepReport()
    async with session_scope(deps.sessionmaker) as session:
        for name, adopt in ADOPTERS.items():
            try:
                async with session.begin_nested():
                    report.adopted += await adopt(session)
            except Exception:
                log.exception("adopter %s failed", name)
        expired = (await session.execute(_EXPIRE)).all()
        due = [row.id for row in (await session.execute(_DUE, {"repush": repush_after_s, "limit": limit})).all()]
    report.expired = len(expired)
    for row in expired:
        if row.state == UnitState.DEAD:
            report.dead += 1
            log.error("unit %s %s dead-lettered: %s", row.kind, row.id, row.last_error)
            with acting_or_maintenance(row.organization_id):
                await call_give_up(deps, row.kind, dict(row.payload or {}), str(row.last_error))
    if due:
        report.pushed = len(due) if await push(queue, deps.sessionmaker, due) else 0
    # A full batch means more is due (10,000 posts scheduled for one minute): push the rest now, batch by
    # batch, rather than one batch per sweep interval.
    pushing = bool(report.pushed)
    while pushing and len(due) == limit:
        async with session_scope(deps.sessionmaker) as session:
            due = [r.id for r in (await session.execute(_DUE, {"repush": repush_after_s, "limit": limit})).all()]
        pushing = bool(due) and await push(queue, deps.sessionmaker, due)  # a failed push waits for the next sweep
        report.pushed += len(due) if pushing else 0
    if report.expired or report.pushed or report.adopted:
        log.info("sweep: %s", report)
    return report
