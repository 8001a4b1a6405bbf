"""The worker loop: take unit ids from the queue, run each under its lease, sweep, stop gracefully.

On stop (SIGTERM): take nothing new, let running units finish within the grace period, then cancel
the rest, which releases them (state back to queued, attempt not counted) and pushes them again, so
another worker starts them at once. A SIGKILL skips all that: the leases expire and the sweeper in any
surviving process (every worker sweeps, and so does the scheduler) re-drives the units.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from core.deps import CoreDeps
from core.work.errors import is_transient
from core.work.leases import DEFAULT_LEASE_S
from core.work.queue import RedisWorkQueue, WorkQueue
from core.work.runner import Outcome, run_unit
from core.work.submit import WorkEnqueue
from core.work.sweeper import DEFAULT_REPUSH_AFTER_S, SweepReport, sweep
from tasks import registry

log = logging.getLogger(__name__)


@dataclass
class WorkerConfig:
    concurrency: int = 2
    lease_s: float = DEFAULT_LEASE_S
    grace_s: float = 20.0
    sweep_every_s: float = 10.0
    repush_after_s: float = DEFAULT_REPUSH_AFTER_S
    sweep: bool = True
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}")


OutcomeHook = Callable[[str, Outcome, float], None]


def make_queue(deps: CoreDeps, name: str) -> RedisWorkQueue:
    return RedisWorkQueue(deps.redis, name)


def attach(deps: CoreDeps, queue: WorkQueue) -> CoreDeps:
    """Wire durable work into `deps`: `deps.enqueue` stores a unit and pushes its id on `queue`."""
    registry.load_all()
    deps.work_queue = queue
    deps.enqueue = WorkEnqueue(deps.sessionmaker, queue)
    return deps


class Worker:
    def __init__(
        self,
        deps: CoreDeps,
        queue: WorkQueue,
        config: WorkerConfig | None = None,
        *,
        on_outcome: OutcomeHook | None = None,
    ) -> None:
        self.deps = deps
        self.queue = queue
        self.config = config or WorkerConfig()
        self.on_outcome = on_outcome or (deps.metrics.task_finished if deps.metrics else None)
        self.running: set[asyncio.Task[Outcome]] = set()
        self.last_sweep: SweepReport | None = None
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        """Until `stop()`: fetch, run, sweep; then drain within the grace period and release the rest."""
        registry.load_all()
        slots = asyncio.Semaphore(self.config.concurrency)
        sweeper = asyncio.create_task(self._sweep_loop()) if self.config.sweep else None
        log.info(
            "worker %s: %d slot(s), lease %.0f s", self.config.worker_id, self.config.concurrency, self.config.lease_s
        )
        try:
            while not self._stop.is_set():
                await slots.acquire()
                if self._stop.is_set():
                    slots.release()
                    break
                unit_id = await self.queue.pop(timeout_s=1.0)
                if unit_id is None:
                    slots.release()
                    continue
                try:
                    parsed = uuid.UUID(unit_id)
                except ValueError:
                    log.warning("ignoring a queue message that is not a unit id: %r", unit_id[:80])
                    slots.release()
                    continue
                task = asyncio.create_task(self._run(parsed))
                self.running.add(task)
                task.add_done_callback(self._finished(slots))
        finally:
            if sweeper is not None:
                sweeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweeper
            await self._drain()

    def _finished(self, slots: asyncio.Semaphore) -> Callable[[asyncio.Task[Outcome]], None]:
        def done(task: asyncio.Task[Outcome]) -> None:
            self.running.discard(task)
            slots.release()

        return done

    async def _run(self, unit_id: uuid.UUID) -> Outcome:
        for attempt in range(6):
            try:
                return await run_unit(
                    self.deps,
                    unit_id,
                    worker=self.config.worker_id,
                    lease_s=self.config.lease_s,
                    on_outcome=self.on_outcome,
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # The claim itself failed (the database is unreachable): try again shortly; if it never
                # works, the unit is still queued and the sweeper pushes it again.
                if not is_transient(exc):
                    log.exception("unit %s could not be run", unit_id)
                    return Outcome.SKIPPED
                await asyncio.sleep(min(10.0, 0.5 * 2**attempt))
        return Outcome.SKIPPED

    async def _drain(self) -> None:
        if not self.running:
            return
        log.info(
            "worker %s stopping: waiting up to %.0f s for %d unit(s)",
            self.config.worker_id,
            self.config.grace_s,
            len(self.running),
        )
        _, pending = await asyncio.wait(set(self.running), timeout=self.config.grace_s)
        for task in pending:
            task.cancel()  # run_unit releases the unit on cancellation
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
            with contextlib.suppress(Exception):
                # Released units have enqueued_at = NULL: push them now so another worker starts at once.
                await sweep(self.deps, self.queue, repush_after_s=self.config.repush_after_s)

    async def _sweep_loop(self) -> None:
        failing_since: float | None = None
        while True:
            try:
                self.last_sweep = await sweep(self.deps, self.queue, repush_after_s=self.config.repush_after_s)
                if self.deps.metrics is not None:
                    self.deps.metrics.swept(self.last_sweep)
                if failing_since is not None:
                    log.warning("sweeper: working again after %.0f s", time.monotonic() - failing_since)
                    failing_since = None
            except Exception as exc:
                if failing_since is None:  # one line per outage, not per tick
                    failing_since = time.monotonic()
                    log.warning("sweeper: %s: %s", type(exc).__name__, exc)
            await asyncio.sleep(self.config.sweep_every_s)

    async def idle(self) -> bool:
        """Nothing running here and nothing waiting on this worker's queue (tests wait for this)."""
        return not self.running and await self.queue.depth() == 0
