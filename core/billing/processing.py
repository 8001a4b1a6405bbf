"""Billing, gateway event processing: stored events → payment and subscription facts → state.

Lifecycle: trial → active → past_due → canceled | expired, with `cancel_at_period_end`; every
transition is an `audit_logs` row whose metadata carries the gateway's event time.

Why processing is idempotent and order-tolerant:
- all processing for one user runs under a transaction-level advisory lock, so two events about the
  same payment never interleave;
- payment effects (plan activation, invoice, "payment received") happen only on the transition into
  `succeeded`, and any later evidence of success (a refund, a retried invoice.paid) finds it done;
- a refund implies the capture, so a refund processed before its capture still ends refunded;
- canceled/expired are terminal: a `subscription.charged` arriving after `subscription.cancelled`
  records the money but does not revive the plan; other status changes apply only if the event is
  not older than the last transition applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import service as accounts
from core.billing import events as billing_events
from core.billing.facts import PaymentStatus
from core.billing.lifecycle import lock_user
from core.billing.matching import find_user, resolve_razorpay_checkout
from core.billing.notifications import ChatSend
from core.billing.payment_effects import apply_payment
from core.billing.subscription_effects import apply_subscription
from core.deps import CoreDeps
from core.inbox.models import EventStatus, GatewayEvent
from core.inbox.payload import MalformedPayload


@dataclass
class ProcessResult:
    status: EventStatus  # processed | ignored | malformed
    outbox: list[ChatSend] = field(default_factory=list)
    note: str | None = None


async def process_gateway_event(*, session: AsyncSession, deps: CoreDeps, event: GatewayEvent) -> ProcessResult:
    """Apply one stored gateway event to payments and subscriptions. Safe to run again."""
    try:
        facts = billing_events.normalize(event.sender, event.raw_body)
    except MalformedPayload as exc:
        # Final: the same bytes fail the same way on every retry (the webhook normally stores these
        # as malformed already; rows stored before it checked end here).
        return ProcessResult(EventStatus.MALFORMED, note=str(exc))
    if facts.empty:
        return ProcessResult(EventStatus.IGNORED, note=f"event type {event.event_type!r} has no billing effect")
    await resolve_razorpay_checkout(session, deps, facts)
    user_id = await find_user(session, facts)
    if user_id is None:
        return ProcessResult(EventStatus.IGNORED, note="no Recast payment or subscription matches this event")
    await lock_user(session, user_id)
    # The event's effects belong to its payer: from here on the database lets this transaction touch that
    # person's rows only (row-level security; the inbox row itself is shared).
    await accounts.act_for_user(session=session, user_id=user_id)
    outbox: list[ChatSend] = []
    sub = None
    if facts.subscription is not None:
        sub = await apply_subscription(session, facts.subscription, facts.occurred_at, user_id, outbox)
    stale_failure = (
        facts.subscription is not None
        and facts.subscription.stale
        and facts.payment is not None
        and facts.payment.status == PaymentStatus.FAILED
    )
    if stale_failure:
        # A failed renewal older than a later payment (or after cancellation) changes nothing now.
        return ProcessResult(EventStatus.PROCESSED, outbox, note="stale payment failure ignored")
    if facts.payment is not None:
        await apply_payment(session, deps, facts.payment, facts.occurred_at, user_id, sub, outbox)
    return ProcessResult(EventStatus.PROCESSED, outbox)
