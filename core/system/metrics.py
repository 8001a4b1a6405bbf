"""Prometheus metrics: what operators watch to know work is flowing (web and workers expose them).

One `Metrics` per process, on its own registry (never the global default), built by the entry point and
passed in `CoreDeps.metrics`; gauges about units are read from the database at scrape time, so every
process reports the same truth whichever worker did the work.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from core.work.admin import counts_by_state, oldest_waiting_age_s
from core.work.runner import Outcome
from core.work.sweeper import SweepReport

if TYPE_CHECKING:
    from core.deps import CoreDeps

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.units = Gauge("recast_work_units", "Work units by kind and state", ["kind", "state"], registry=r)
        self.oldest_waiting = Gauge(
            "recast_work_oldest_waiting_seconds", "Age of the oldest due unit still waiting", registry=r
        )
        self.queue_depth = Gauge("recast_work_queue_depth", "Wake-up messages waiting on the queue", registry=r)
        self.task_seconds = Histogram(
            "recast_task_duration_seconds",
            "Time a unit ran, by kind and outcome",
            ["kind", "outcome"],
            registry=r,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900),
        )
        self.retries = Counter("recast_task_retries_total", "Units scheduled for another attempt", ["kind"], registry=r)
        self.dead_letters = Counter("recast_dead_letters_total", "Units dead-lettered or failed", ["kind"], registry=r)
        self.redrives = Counter(
            "recast_sweeper_redrives_total", "Units the sweeper re-drove, by reason", ["reason"], registry=r
        )
        self.webhook_seconds = Histogram(
            "recast_webhook_latency_seconds",
            "Time to store and answer a webhook",
            ["gateway", "status"],
            registry=r,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5),
        )

    def task_finished(self, kind: str, outcome: Outcome, seconds: float) -> None:
        self.task_seconds.labels(kind, outcome.value).observe(seconds)
        if outcome == Outcome.RETRYING:
            self.retries.labels(kind).inc()
        elif outcome in (Outcome.DEAD, Outcome.FAILED):
            self.dead_letters.labels(kind).inc()

    def swept(self, report: SweepReport) -> None:
        for reason, n in (("lease_expired", report.expired), ("pushed", report.pushed), ("adopted", report.adopted)):
            if n:
                self.redrives.labels(reason).inc(n)

    def webhook(self, gateway: str, status: int, started: float) -> None:
        self.webhook_seconds.labels(gateway, str(status)).observe(time.perf_counter() - started)

    async def render(self, deps: CoreDeps) -> bytes:
        """Refresh the database-backed gauges, then the exposition text."""
        async with deps.sessionmaker() as session:
            counts = await counts_by_state(session)
            oldest = await oldest_waiting_age_s(session)
        self.units.clear()
        for (kind, state), n in counts.items():
            self.units.labels(kind, state).set(n)
        self.oldest_waiting.set(oldest)
        if deps.work_queue is not None:
            try:
                self.queue_depth.set(await deps.work_queue.depth())
            except Exception:
                self.queue_depth.set(float("nan"))
        return generate_latest(self.registry)
