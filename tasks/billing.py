"""Billing tasks: process one stored gateway event; trial reminders and period ends for the scheduler."""

from __future__ import annotations

import logging
import traceback
import uuid
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.billing import notifications
from core.billing import service as billing_service
from core.common.clock import utcnow
from core.deps import CoreDeps
from core.inbox.models import GatewayEvent
from core.work.service import adopter
from tasks.registry import task

log = logging.getLogger(__name__)
PROCESS = "billing.process_gateway_event"
GATEWAYS = ("razorpay", "stripe", "cashfree", "paypal")


async def _event_given_up(deps: CoreDeps, payload: dict[str, Any], error: str) -> None:
    """Keep the evidence on the event row, where operators look (`recast jobs` lists the unit too)."""
    async with deps.sessionmaker() as session:
        event = await session.get(GatewayEvent, uuid.UUID(payload["event_id"]))
        if event is not None and event.status not in ("processed", "ignored"):
            event.status, event.last_error = "failed", error[-8000:]
            await session.commit()


@task(PROCESS, key=lambda p: str(p["event_id"]), on_give_up=_event_given_up, max_attempts=10)
async def process_gateway_event(event_id: str, deps: CoreDeps) -> str:
    """Process a stored gateway event once: processed, ignored, malformed (final, with the reason), or
    failed with the traceback kept."""
    async with deps.sessionmaker() as session:
        # SKIP LOCKED: a second run for an event another worker holds just returns.
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
    await notifications.deliver(deps, result.outbox)
    return result.status


@task("billing.send_trial_reminders")
async def send_trial_reminders(deps: CoreDeps) -> int:
    """Remind trials ending soon and close periods that have ended (run hourly by the scheduler)."""
    async with deps.sessionmaker() as session:
        outbox = await billing_service.send_trial_reminders(session=session)
        outbox += await billing_service.expire_due_subscriptions(session=session)
        await session.commit()
    return await notifications.deliver(deps, outbox)


_ADOPT_EVENTS = text(
    """
    INSERT INTO work_units (kind, dedupe_key, payload, max_attempts)
    SELECT :kind, e.id::text, jsonb_build_object('event_id', e.id::text), 10
      FROM gateway_events e
     WHERE e.status = 'received' AND e.received_at < now() - interval '20 seconds'
       AND e.sender = ANY(:senders)
    ON CONFLICT (kind, dedupe_key) DO NOTHING
    """
)


@adopter("billing.gateway_events")
async def adopt_stored_events(session: AsyncSession) -> int:
    """A gateway event stored but never given a unit (the process died, or the enqueue failed during an
    outage after the 200 was sent) gets one: the customer paid, so the plan must activate."""
    result = await session.execute(_ADOPT_EVENTS, {"kind": PROCESS, "senders": list(GATEWAYS)})
    return int(getattr(result, "rowcount", 0) or 0)
