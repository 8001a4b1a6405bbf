"""The scheduler: periodic maintenance that must run once per deployment."""

from __future__ import annotations

import asyncio
import logging

from core.analytics.partitions import ensure_engagement_partitions
from core.db.session import session_scope
from core.deps import CoreDeps

log = logging.getLogger(__name__)
HOURLY = 3600


async def run_scheduler(deps: CoreDeps, *, interval_s: float = HOURLY) -> None:
    """Every interval: create engagement_metrics partitions ahead of time, then enqueue reminders."""
    while True:
        try:
            async with session_scope(deps.sessionmaker) as session:
                await ensure_engagement_partitions(session=session, years_ahead=2)
            for name in ("billing.send_trial_reminders", "slack.send_qa_reminders"):
                try:
                    await deps.enqueue(name)
                except LookupError:
                    log.debug("no task %s registered", name)
        except Exception:
            log.exception("scheduler tick failed")
        await asyncio.sleep(interval_s)
