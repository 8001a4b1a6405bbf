"""Running a unit: claim it, run its handler under a heartbeat, record what happened.

The rules (ARCHITECTURE.md, "Work that survives faults"):
- the holder renews `leased_until` while it runs; a worker that dies stops renewing and the sweeper
  (`core.work.sweeper`) re-drives the unit once the lease has expired;
- transient errors retry with exponential backoff and jitter, permanent ones fail the unit, and after
  `max_attempts` a unit is dead-lettered; both end states call the kind's give-up hook once, which
  tells the owner and leaves nothing "processing";
- a worker that is shutting down releases (never finishes) what it could not complete.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import func

from core.common.redaction import redact
from core.db.session import acting_or_maintenance
from core.system.audit_source import AuditSource, acting_as
from core.work import registry
from core.work.errors import is_transient
from core.work.leases import DEFAULT_LEASE_S, Claimed, claim, keep_lease, release, settle
from core.work.models import UnitState

if TYPE_CHECKING:
    from core.deps import CoreDeps

log = logging.getLogger(__name__)


BACKOFF_BASE_S = 2.0
BACKOFF_CAP_S = 300.0
_ERROR_LIMIT = 8000


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    RETRYING = "retrying"
    FAILED = "failed"
    DEAD = "dead"
    RELEASED = "released"  # shutdown: handed back unfinished
    LOST = "lost"  # the lease went to another worker; this one stopped
    SKIPPED = "skipped"  # not claimable: done, running elsewhere, or not yet due


def backoff_s(attempts: int) -> float:
    """Exponential backoff with jitter: ~2 s, 4 s, 8 s ... capped at 5 minutes, each 50-100% of its step."""
    step = min(BACKOFF_CAP_S, BACKOFF_BASE_S * float(2 ** max(0, attempts - 1)))
    return float(step * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not security


def _error_text(exc: BaseException) -> str:
    text_ = redact("".join(traceback.format_exception(exc)))  # stored and shown by `recast jobs`
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
    # The task copies the context: the handler acts for the submitter, and audits as this worker.
    with acting_or_maintenance(unit.organization_id), acting_as(AuditSource(handler.channel, actor=f"worker:{worker}")):
        work = asyncio.create_task(handler.run(deps=deps, **unit.payload), name=f"unit {unit.kind} {unit.id}")
    heartbeat = asyncio.create_task(keep_lease(deps.sessionmaker, unit.id, worker, lease_s))
    try:
        done, _ = await asyncio.wait({work, heartbeat}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        await _stop(work)
        heartbeat.cancel()
        await release(deps.sessionmaker, unit.id, worker)
        raise
    if work not in done:  # the heartbeat ended: the lease is gone, someone else may be running it
        log.warning("unit %s %s lost its lease; stopping this run", unit.kind, unit.id)
        await _stop(work)
        return Outcome.LOST
    heartbeat.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await heartbeat
    return await _record(deps, unit, worker, work)


async def _record(deps: CoreDeps, unit: Claimed, worker: str, work: asyncio.Task[Any]) -> Outcome:
    """What the finished run means for the unit: succeeded, retrying after a backoff, failed or dead."""
    exc = work.exception() if not work.cancelled() else asyncio.CancelledError()
    if exc is None:
        result = work.result()
        await settle(
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
        await settle(
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


async def _give_up(deps: CoreDeps, unit: Claimed, worker: str, state: UnitState, error: str) -> Outcome:
    if await settle(
        deps.sessionmaker,
        unit.id,
        worker,
        {"state": state, "finished_at": func.now(), "leased_until": None, "last_error": error[-_ERROR_LIMIT:]},
    ):
        with acting_or_maintenance(unit.organization_id):
            await call_give_up(deps, unit.kind, unit.payload, error)
    return Outcome.DEAD if state == UnitState.DEAD else Outcome.FAILED


async def call_give_up(deps: CoreDeps, kind: str, payload: dict[str, Any], error: str) -> None:
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
