"""Durable work: submit, claim, heartbeat, finish, retry, release and sweep units of work.

The rules (ARCHITECTURE.md, "Work that survives faults"):
- a unit is claimed by one conditional UPDATE, so at most one worker holds it at a time;
- the holder renews `leased_until` while it runs; a worker that dies stops renewing and the sweeper
  re-drives the unit once the lease has expired (well under a minute with the default lease);
- transient errors retry with exponential backoff and jitter, permanent ones fail the unit, and after
  `max_attempts` a unit is dead-lettered; both end states call the kind's give-up hook once, which
  tells the owner and leaves nothing "processing";
- a worker that is shutting down releases (never finishes) what it could not complete.
The queue only carries unit ids, as a wake-up call: losing or duplicating a message loses or repeats nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.common.clock import utcnow
from core.db.session import session_scope
from core.work import registry
from core.work.errors import is_transient
from core.work.models import UnitState, WorkUnit
from core.work.queue import WorkQueue

if TYPE_CHECKING:
    from core.deps import CoreDeps

log = logging.getLogger(__name__)

DEFAULT_LEASE_S = 30.0
BACKOFF_BASE_S = 2.0
BACKOFF_CAP_S = 300.0
# How long a queued unit may wait after its message was pushed before the sweeper pushes another
# (the first may have been lost with a Redis restart or never sent).
DEFAULT_REPUSH_AFTER_S = 60.0
_ERROR_LIMIT = 8000


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    RETRYING = "retrying"
    FAILED = "failed"
    DEAD = "dead"
    RELEASED = "released"  # shutdown: handed back unfinished
    LOST = "lost"  # the lease went to another worker; this one stopped
    SKIPPED = "skipped"  # not claimable: done, running elsewhere, or not yet due


@dataclass(frozen=True)
class Claimed:
    id: uuid.UUID
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int


# ---------------------------------------------------------------- submitting


async def add(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any],
    *,
    key: str | None = None,
    delay_s: float = 0.0,
) -> tuple[uuid.UUID, bool]:
    """Record a unit in the caller's transaction; (id, True) if new, (existing id, False) for a duplicate
    (kind, key). The caller pushes new ids after its commit (`push`); if it never does, the sweeper will."""
    handler = registry.handler_for(kind)
    if key is None and handler.key is not None:
        key = handler.key(payload)
    values: dict[str, Any] = {
        "kind": kind,
        "dedupe_key": key,
        "payload": payload,
        "max_attempts": handler.max_attempts,
        "enqueued_at": func.now(),
    }
    if delay_s:
        # Not pushed now (a worker would only skip it): the first sweep after it falls due pushes it.
        values["run_after"] = func.now() + timedelta(seconds=delay_s)
        values["enqueued_at"] = None
    stmt = (
        pg_insert(WorkUnit)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["kind", "dedupe_key"])
        .returning(WorkUnit.id)
    )
    new_id = await session.scalar(stmt)
    if new_id is not None:
        return new_id, True
    existing = await session.scalar(select(WorkUnit.id).where(WorkUnit.kind == kind, WorkUnit.dedupe_key == key))
    if existing is None:  # pragma: no cover - a conflict implies the row exists
        raise RuntimeError(f"work unit {kind}/{key} conflicted but is missing")
    return existing, False


async def push(
    queue: WorkQueue | None, sessionmaker: async_sessionmaker[AsyncSession], ids: Sequence[uuid.UUID]
) -> bool:
    """Wake workers for `ids`. A failed push is not an error: the units are stored, and the sweeper pushes
    them again (sooner when we could mark them as not enqueued)."""
    if not ids or queue is None:
        return True
    try:
        await queue.push([str(i) for i in ids])
        return True
    except Exception as exc:
        log.warning("could not push %d unit(s) to the queue (%s); the sweeper will", len(ids), exc)
        with contextlib.suppress(Exception):
            async with session_scope(sessionmaker) as session:
                await session.execute(update(WorkUnit).where(WorkUnit.id.in_(ids)).values(enqueued_at=None))
        return False


class WorkEnqueue:
    """The `Enqueue` port (see `core.deps`): `await enqueue("pipeline.run_job", job_id=...)` stores a unit
    (deduplicated by its kind's key) and wakes a worker."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], queue: WorkQueue | None) -> None:
        self.sessionmaker = sessionmaker
        self.queue = queue

    async def __call__(self, kind: str, /, **payload: Any) -> None:
        await self.submit(kind, payload)

    async def submit(self, kind: str, payload: dict[str, Any], *, key: str | None = None) -> uuid.UUID:
        async with session_scope(self.sessionmaker) as session:
            unit_id, created = await add(session, kind, payload, key=key)
        if created:
            await push(self.queue, self.sessionmaker, [unit_id])
        return unit_id


# ---------------------------------------------------------------- running


_CLAIM = text(
    """
    UPDATE work_units
       SET state = 'running', attempts = attempts + 1, leased_by = :worker,
           leased_until = now() + make_interval(secs => :lease), started_at = coalesce(started_at, now()),
           updated_at = now()
     WHERE id = :id
       AND ((state = 'queued' AND run_after <= now()) OR (state = 'running' AND leased_until < now()))
    RETURNING kind, payload, attempts, max_attempts
    """
)


async def claim(
    sessionmaker: async_sessionmaker[AsyncSession], unit_id: uuid.UUID, *, worker: str, lease_s: float
) -> Claimed | None:
    async with session_scope(sessionmaker) as session:
        row = (await session.execute(_CLAIM, {"id": unit_id, "worker": worker, "lease": lease_s})).first()
    if row is None:
        return None
    return Claimed(unit_id, row.kind, dict(row.payload or {}), row.attempts, row.max_attempts)


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


def backoff_s(attempts: int) -> float:
    """Exponential backoff with jitter: ~2 s, 4 s, 8 s ... capped at 5 minutes, each 50-100% of its step."""
    step = min(BACKOFF_CAP_S, BACKOFF_BASE_S * float(2 ** max(0, attempts - 1)))
    return float(step * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not security


async def _settle(
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


def _error_text(exc: BaseException) -> str:
    text_ = "".join(traceback.format_exception(exc))
    return text_[-_ERROR_LIMIT:]


async def run_unit(
    deps: CoreDeps,
    unit_id: uuid.UUID,
    *,
    worker: str,
    lease_s: float = DEFAULT_LEASE_S,
    on_outcome: Callable[[str, Outcome, float], None] | None = None,
) -> Outcome:
    """Claim the unit and run its handler under a heartbeat; record what happened. Cancelling this
    coroutine (worker shutdown) releases the unit for another worker and re-raises."""
    claimed = await claim(deps.sessionmaker, unit_id, worker=worker, lease_s=lease_s)
    if claimed is None:
        return Outcome.SKIPPED
    started = time.monotonic()
    outcome = await _run_claimed(deps, claimed, worker=worker, lease_s=lease_s)
    elapsed = time.monotonic() - started
    log.info(
        "unit %s %s attempt %d: %s in %.0f ms", claimed.kind, claimed.id, claimed.attempts, outcome, elapsed * 1000
    )
    if on_outcome is not None:
        on_outcome(claimed.kind, outcome, elapsed)
    return outcome


async def _run_claimed(deps: CoreDeps, unit: Claimed, *, worker: str, lease_s: float) -> Outcome:
    if unit.attempts > unit.max_attempts:
        # Claimed again after its worker died mid-run too often: a poison unit (it crashes whoever runs it).
        message = f"gave up after {unit.max_attempts} attempts that never finished (the worker was lost each time)"
        return await _give_up(deps, unit, worker, UnitState.DEAD, message)
    try:
        handler = registry.handler_for(unit.kind)
    except LookupError:
        return await _give_up(deps, unit, worker, UnitState.FAILED, f"no handler for work kind {unit.kind!r}")
    work = asyncio.create_task(handler.run(deps=deps, **unit.payload), name=f"unit {unit.kind} {unit.id}")
    heartbeat = asyncio.create_task(_heartbeat(deps.sessionmaker, unit.id, worker, lease_s))
    try:
        done, _ = await asyncio.wait({work, heartbeat}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        await _stop(work)
        heartbeat.cancel()
        await _release(deps.sessionmaker, unit.id, worker)
        raise
    if work not in done:  # the heartbeat ended: the lease is gone, someone else may be running it
        log.warning("unit %s %s lost its lease; stopping this run", unit.kind, unit.id)
        await _stop(work)
        return Outcome.LOST
    heartbeat.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await heartbeat
    exc = work.exception() if not work.cancelled() else asyncio.CancelledError()
    if exc is None:
        result = work.result()
        await _settle(
            deps.sessionmaker,
            unit.id,
            worker,
            {
                "state": UnitState.SUCCEEDED,
                "finished_at": func.now(),
                "leased_until": None,
                "result": _jsonable(result),
                "last_error": None,
            },
        )
        return Outcome.SUCCEEDED
    if isinstance(exc, asyncio.CancelledError) or is_transient(exc):
        if unit.attempts >= unit.max_attempts:
            return await _give_up(deps, unit, worker, UnitState.DEAD, _error_text(exc))
        delay = backoff_s(unit.attempts)
        log.warning(
            "unit %s %s attempt %d: transient %s; retry in %.1f s",
            unit.kind,
            unit.id,
            unit.attempts,
            type(exc).__name__,
            delay,
        )
        await _settle(
            deps.sessionmaker,
            unit.id,
            worker,
            {
                "state": UnitState.QUEUED,
                "leased_until": None,
                "leased_by": None,
                "enqueued_at": None,
                "run_after": func.now() + timedelta(seconds=delay),
                "last_error": _error_text(exc),
            },
        )
        return Outcome.RETRYING
    log.error("unit %s %s failed: %s", unit.kind, unit.id, "".join(traceback.format_exception_only(exc)).strip())
    return await _give_up(deps, unit, worker, UnitState.FAILED, _error_text(exc))


def _jsonable(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, dict):
        return {str(k): v if isinstance(v, str | int | float | bool | None) else str(v) for k, v in value.items()}
    return {"value": value if isinstance(value, str | int | float | bool) else str(value)}


async def _stop(task: asyncio.Task[Any]) -> None:
    task.cancel()
    with contextlib.suppress(BaseException):
        await asyncio.wait_for(asyncio.shield(task), timeout=10)


async def _heartbeat(
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


async def _release(sessionmaker: async_sessionmaker[AsyncSession], unit_id: uuid.UUID, worker: str) -> None:
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


async def _give_up(deps: CoreDeps, unit: Claimed, worker: str, state: UnitState, error: str) -> Outcome:
    if await _settle(
        deps.sessionmaker,
        unit.id,
        worker,
        {"state": state, "finished_at": func.now(), "leased_until": None, "last_error": error[-_ERROR_LIMIT:]},
    ):
        await _call_give_up(deps, unit.kind, unit.payload, error)
    return Outcome.DEAD if state == UnitState.DEAD else Outcome.FAILED


async def _call_give_up(deps: CoreDeps, kind: str, payload: dict[str, Any], error: str) -> None:
    handler = registry.HANDLERS.get(kind)
    if handler is None or handler.on_give_up is None:
        return
    try:
        await handler.on_give_up(deps, payload, error)
    except Exception:
        log.exception("the give-up hook of %s failed", kind)


async def run_now(deps: CoreDeps, unit_id: uuid.UUID) -> Outcome:
    """Run a unit in this process right away (the outbox's fast path); the durable path still holds."""
    return await run_unit(deps, unit_id, worker=f"inline-{uuid.uuid4().hex[:8]}")


# ---------------------------------------------------------------- sweeping

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
    RETURNING id, kind, payload, state::text AS state, last_error
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
    message pushed again, orphaned domain rows adopted. Safe to run in every process at once."""
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
            await _call_give_up(deps, row.kind, dict(row.payload or {}), str(row.last_error))
    if due:
        report.pushed = len(due) if await push(queue, deps.sessionmaker, due) else 0
    if report.expired or report.pushed or report.adopted:
        log.info("sweep: %s", report)
    return report


# ---------------------------------------------------------------- operators


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


__all__ = [
    "Outcome",
    "WorkEnqueue",
    "add",
    "claim",
    "push",
    "redrive",
    "run_now",
    "run_unit",
    "sweep",
    "units",
]


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
