"""Analytics tasks: collect published posts' figures when due (the scheduler submits this every 5 minutes), the
nightly rollup, and the client accounts' weekly Slack digest."""

from __future__ import annotations

import uuid
from datetime import datetime

from core.analytics import collection, digest, report, snapshots
from core.common.clock import utcnow
from core.deps import CoreDeps
from core.notify import outbox
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
        total.parked += report.parked
        # Owners told their account lacks the insights permission: sent now (a failed send stays in the
        # outbox for a worker to retry).
        await outbox.flush(deps, report.messages)
        if report.claimed < collection.BATCH:
            break
    return {
        "claimed": total.claimed,
        "written": total.written,
        "deferred": total.deferred,
        "finished": total.finished,
        "parked": total.parked,
    }


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


@task("analytics.send_client_digests", max_attempts=3)
async def send_client_digests(
    deps: CoreDeps, at: str | None = None, organization_id: str | None = None
) -> dict[str, int]:
    """Hourly: each client account whose Monday 09:00 (its own timezone) has come gets last week's figures in
    its Slack channel, once per week (the outbox key); the outbox retries what Slack refuses for now. `at`
    (ISO 8601) acts as of another instant (the tests' Mondays; a re-run of a Monday the scheduler missed);
    `organization_id` limits it to one agency's clients."""
    now = datetime.fromisoformat(at) if at else None
    org = uuid.UUID(organization_id) if organization_id else None
    units = await digest.record_due_digests(deps.sessionmaker, deps.store, now=now, organization_id=org)
    await outbox.flush(deps, units)
    return {"recorded": len(units)}


@task("analytics.send_monthly_reports", max_attempts=3)
async def send_monthly_reports(deps: CoreDeps) -> dict[str, int]:
    """Hourly: on the 1st in an owner's timezone, last month's PDF report to each creator and client account
    that published in it (once per owner per month: the outbox key)."""
    return {"sent": await report.send_monthly(deps)}
