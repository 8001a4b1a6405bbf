"""The scheduler: periodic work that must happen once per deployment, and a sweeper that never sleeps.

Every tick submits each periodic task as a work unit keyed by its period (two schedulers, or a restart
within the hour, submit it once), and sweeps lost work. Every name is checked at start-up against the
registered tasks, so a typo fails the process instead of silently never running.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from core.analytics.partitions import ensure_engagement_partitions
from core.common.clock import utcnow
from core.db.session import maintenance_scope
from core.deps import CoreDeps
from core.work.admin import purge_finished
from core.work.queue import WorkQueue
from core.work.registry import HANDLERS
from core.work.submit import WorkEnqueue
from core.work.sweeper import sweep
from tasks import registry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    task: str
    every_s: int


PERIODIC = (
    Periodic("billing.send_trial_reminders", 3600),
    Periodic("slack.send_qa_reminders", 900),
    Periodic("distribution.refresh_tokens", 3600),
    Periodic("analytics.collect_metrics", 300),
    Periodic("analytics.roll_up", 86400),  # once per UTC day, just after midnight
    Periodic("analytics.send_client_digests", 3600),  # each client's Monday 09:00, in its own timezone
    Periodic("analytics.send_monthly_reports", 3600),  # acts on the 1st in each owner's timezone
)


FINISHED_UNITS_KEPT = timedelta(days=30)


def check_periodic(periodic: tuple[Periodic, ...] = PERIODIC) -> None:
    """Fail fast: every periodic task must be a registered task."""
    registry.load_all()
    missing = [p.task for p in periodic if p.task not in HANDLERS]
    if missing:
        raise SystemExit(
            f"scheduler: no such task(s): {', '.join(missing)} (registered: {', '.join(sorted(HANDLERS))})"
        )


async def submit_due(deps: CoreDeps, queue: WorkQueue | None, periodic: tuple[Periodic, ...] = PERIODIC) -> int:
    """Submit each periodic task once per period (the key names the period)."""
    now = int(utcnow().timestamp())
    enqueue = WorkEnqueue(deps.sessionmaker, queue)
    for p in periodic:
        await enqueue.submit(p.task, {}, key=f"{p.task}@{now // p.every_s}")
    return len(periodic)


async def run_scheduler(
    deps: CoreDeps, queue: WorkQueue | None, *, tick_s: float = 10.0, periodic: tuple[Periodic, ...] = PERIODIC
) -> None:
    """Every tick: sweep; every hour: partitions ahead of time and succeeded units older than 30 days
    removed; every period: the periodic tasks."""
    check_periodic(periodic)
    last_partitions = 0.0
    failing_since: float | None = None
    while True:
        try:
            if time.monotonic() - last_partitions > 3600 or not last_partitions:
                async with maintenance_scope(deps.sessionmaker) as session:  # upkeep of every tenant's tables
                    await ensure_engagement_partitions(session=session, years_ahead=2)
                    await purge_finished(session, older_than=FINISHED_UNITS_KEPT)
                last_partitions = time.monotonic()
            await submit_due(deps, queue, periodic)
            await sweep(deps, queue)
            if failing_since is not None:
                log.warning("scheduler: working again after %.0f s", time.monotonic() - failing_since)
                failing_since = None
        except Exception as exc:
            if failing_since is None:
                failing_since = time.monotonic()
                log.warning("scheduler tick failed: %s: %s", type(exc).__name__, exc)
        await asyncio.sleep(tick_s)
