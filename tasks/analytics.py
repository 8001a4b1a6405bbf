"""Analytics tasks: collect published posts' figures when due (the scheduler submits this every 5 minutes)."""

from __future__ import annotations

from core.analytics import collection, report, snapshots
from core.common.clock import utcnow
from core.deps import CoreDeps
from tasks.registry import task


@task("analytics.collect_metrics", max_attempts=3)
async def collect_metrics(deps: CoreDeps) -> dict[str, int]:
    """Runs until fewer posts are due than a batch holds, so a backlog drains in one go."""
    total = collection.CollectReport()
    while True:
        report = await collection.collect_due(deps.sessionmaker, deps.settings, limit=collection.BATCH)
        total.claimed += report.claimed
        total.written += report.written
        total.deferred += report.deferred
        total.finished += report.finished
        if report.claimed < collection.BATCH:
            break
    return {"claimed": total.claimed, "written": total.written, "deferred": total.deferred, "finished": total.finished}


@task("analytics.roll_up", max_attempts=3)
async def roll_up(deps: CoreDeps) -> dict[str, int]:
    """Daily (the scheduler submits it once per UTC day): the snapshots of the periods that just ended, then
    snapshots older than a year into the archive."""
    today = utcnow().date()
    async with deps.sessionmaker() as session:
        written = await snapshots.roll_up(session, today)
        archived = await snapshots.archive_old(session, today)
        await session.commit()
    return {"written": written, "archived": archived}


@task("analytics.send_monthly_reports", max_attempts=3)
async def send_monthly_reports(deps: CoreDeps) -> dict[str, int]:
    """Hourly: on the 1st in an owner's timezone, last month's PDF report to each creator and client account
    that published in it (once per owner per month: the outbox key)."""
    return {"sent": await report.send_monthly(deps)}
