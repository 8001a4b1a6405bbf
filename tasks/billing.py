"""Billing tasks: process one stored gateway event; trial reminders and period ends for the scheduler."""

from __future__ import annotations

import logging
import traceback
import uuid
from datetime import timedelta

from sqlalchemy import select, update
from taskiq import TaskiqDepends

from core.billing import notifications
from core.billing import service as billing_service
from core.common.clock import utcnow
from core.deps import CoreDeps
from core.inbox.models import GatewayEvent
from tasks.registry import task

log = logging.getLogger(__name__)
STALE_AFTER = timedelta(minutes=2)


@task("billing.process_gateway_event")
async def process_gateway_event(event_id: str, deps: CoreDeps = TaskiqDepends()) -> str:
    """Process a stored gateway event once: processed, ignored, malformed (final, with the reason), or
    failed with the traceback kept."""
    async with deps.sessionmaker() as session:
        # SKIP LOCKED: a redelivered message for an event another worker holds just returns.
        event = await session.scalar(
            select(GatewayEvent)
            .where(GatewayEvent.id == uuid.UUID(event_id))
            .with_for_update(skip_locked=True)
        )
        if event is None:
            return "locked-or-missing"
        if event.status in ("processed", "ignored", "malformed"):
            return event.status
        attempts = event.attempts + 1
        try:
            async with session.begin_nested():
                result = await billing_service.process_gateway_event(session=session, deps=deps, event=event)
        except Exception:
            # The savepoint rolled back every billing change; keep the evidence on the row.
            log.exception("gateway event %s failed", event_id)
            event.status, event.attempts, event.last_error = "failed", attempts, traceback.format_exc()
            await session.commit()
            raise
        event.status, event.attempts, event.last_error = result.status, attempts, result.note
        event.processed_at = utcnow()
        if result.status == "malformed":
            log.warning("gateway event %s is malformed, not processed: %s", event_id, result.note)
        await session.commit()
    await notifications.deliver(deps.notifier, result.outbox)
    return result.status


@task("billing.send_trial_reminders")
async def send_trial_reminders(deps: CoreDeps = TaskiqDepends()) -> int:
    """Remind trials ending soon and close periods that have ended (run hourly by the scheduler)."""
    async with deps.sessionmaker() as session:
        outbox = await billing_service.send_trial_reminders(session=session)
        outbox += await billing_service.expire_due_subscriptions(session=session)
        await session.commit()
    return await notifications.deliver(deps.notifier, outbox)


@task("billing.requeue_stale_events")
async def requeue_stale_events(deps: CoreDeps = TaskiqDepends()) -> int:
    """Enqueue events stored but never processed (enqueue failed) or failed earlier, up to 10 attempts."""
    async with deps.sessionmaker() as session:
        ids = (await session.scalars(
            select(GatewayEvent.id).where(
                GatewayEvent.status.in_(("received", "failed")),
                GatewayEvent.received_at < utcnow() - STALE_AFTER,
                GatewayEvent.attempts < 10,
                GatewayEvent.sender.in_(("razorpay", "stripe", "cashfree", "paypal")),
            ).limit(500)
        )).all()
        await session.execute(
            update(GatewayEvent).where(GatewayEvent.id.in_(ids)).values(received_at=utcnow())
        )
        await session.commit()
    for event_id in ids:
        await deps.enqueue("billing.process_gateway_event", event_id=str(event_id))
    return len(ids)
