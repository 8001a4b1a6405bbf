"""Billing tasks: process one stored gateway event; trial reminders and period ends for the scheduler."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.billing import lifecycle, notifications, processing
from core.deps import CoreDeps
from core.inbox import service as inbox
from core.inbox.models import EventStatus
from core.work.sweeper import adopter
from tasks.registry import task

log = logging.getLogger(__name__)
PROCESS = "billing.process_gateway_event"
GATEWAYS = ("razorpay", "stripe", "cashfree", "paypal")


async def _event_given_up(deps: CoreDeps, payload: dict[str, Any], error: str) -> None:
    """Keep the evidence on the event row, where operators look (`recast jobs` lists the unit too)."""
    async with deps.sessionmaker() as session:
        await inbox.give_up(session, uuid.UUID(payload["event_id"]), error)
        await session.commit()


@task(PROCESS, key=lambda p: str(p["event_id"]), on_give_up=_event_given_up, max_attempts=10, channel="gateway")
async def process_gateway_event(event_id: str, deps: CoreDeps) -> str:
    """Process a stored gateway event once: processed, ignored, malformed (final, with the reason), or
    failed with the traceback kept."""
    async with deps.sessionmaker() as session:
        event = await inbox.claim(session, uuid.UUID(event_id))
        if event is None:
            return "locked-or-missing"
        if event.status in inbox.FINAL:
            return event.status
        try:
            async with session.begin_nested():
                result = await processing.process_gateway_event(session=session, deps=deps, event=event)
        except Exception:
            # The savepoint rolled back every billing change; keep the evidence on the row.
            log.exception("gateway event %s failed", event_id)
            inbox.mark_failed(event)
            await session.commit()
            raise
        inbox.mark_done(event, result.status, result.note)
        if result.status == EventStatus.MALFORMED:
            log.warning("gateway event %s is malformed, not processed: %s", event_id, result.note)
        await session.commit()
    await notifications.deliver(deps, result.outbox)
    return result.status


@task("billing.send_trial_reminders")
async def send_trial_reminders(deps: CoreDeps) -> int:
    """Remind trials ending soon and close periods that have ended (run hourly by the scheduler)."""
    async with deps.sessionmaker() as session:
        outbox = await lifecycle.send_trial_reminders(session=session)
        outbox += await lifecycle.expire_due_subscriptions(session=session)
        await session.commit()
    return await notifications.deliver(deps, outbox)


@adopter("billing.gateway_events")
async def adopt_stored_events(session: AsyncSession) -> int:
    """A stored gateway event without a unit gets one: the customer paid, so the plan must activate."""
    return await inbox.adopt_unqueued(
        session, senders=list(GATEWAYS), kind=PROCESS, after=timedelta(seconds=20), max_attempts=10
    )
