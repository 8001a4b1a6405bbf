"""A real worker in the test process, on its own Redis list."""

from __future__ import annotations

import asyncio
import contextlib


@contextlib.asynccontextmanager
async def running_worker(deps, queue_name: str, *, concurrency: int = 2, lease_s: float = 30.0):
    """A real worker in this process on a Redis list of its own: `deps.enqueue` stores durable units and
    wakes it. Yields the `tasks.worker.Worker`; `drain()` waits until it has nothing left."""
    from tasks.worker import Worker, WorkerConfig, attach, make_queue

    queue = make_queue(deps, queue_name)
    attach(deps, queue)
    worker = Worker(deps, queue, WorkerConfig(concurrency=concurrency, lease_s=lease_s, sweep_every_s=1.0))
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        worker.stop()
        await task
        await deps.redis.delete(queue_name)


async def drain(worker, timeout: float = 180.0) -> None:
    """Wait until the worker is idle twice in a row (a finishing unit may push its follow-ups)."""
    import time

    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 2:
        if time.monotonic() > deadline:
            raise AssertionError(f"the worker still had work after {timeout:.0f}s")
        quiet = quiet + 1 if await worker.idle() else 0
        await asyncio.sleep(0.2)
