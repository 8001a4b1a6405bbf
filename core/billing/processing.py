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

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.billing import events as billing_events
from core.billing import invoices
from core.billing import usage as billing_usage
from core.billing.events import PaymentStatus, SubStatus
from core.billing.gateways import (
    GatewayError,
    RazorpayGateway,
)
from core.billing.lifecycle import (
    RENEWAL_WINDOW,
    SUB_COLUMNS,
    SUCCEEDED,
    TERMINAL,
    add_period,
    apply_plan_limits,
    last_transition_at,
    lock_user,
    plan_by_slug,
    transition,
)
from core.billing.models import Payment, Subscription, SubscriptionPlan
from core.billing.notifications import ChatSend, notify
from core.deps import CoreDeps
from core.inbox.models import EventStatus, GatewayEvent
from core.inbox.payload import MalformedPayload
from core.system import audit

log = logging.getLogger(__name__)


@dataclass
class ProcessResult:
    status: EventStatus  # processed | ignored | malformed
    outbox: list[ChatSend] = field(default_factory=list)
    note: str | None = None


async def _find_payment(
    session: AsyncSession, fact: billing_events.PaymentFact, *, lock: bool = True
) -> Payment | None:
    conditions = []
    if fact.recast_payment_id:
        conditions.append(Payment.id == fact.recast_payment_id)
    if fact.payment_ref:
        conditions.append((Payment.payment_gateway == fact.gateway) & (Payment.gateway_payment_id == fact.payment_ref))
    if fact.order_refs:
        conditions.append((Payment.payment_gateway == fact.gateway) & Payment.gateway_order_id.in_(fact.order_refs))
    for condition in conditions:
        stmt = select(Payment).where(condition).limit(1)
        found = await session.scalar(stmt.with_for_update() if lock else stmt)
        if found is not None:
            return found
    return None


async def _resolve_razorpay_checkout(session: AsyncSession, deps: CoreDeps, facts: billing_events.Facts) -> None:
    """Give a Razorpay payment fact the Recast checkout it pays, asking Razorpay when the event lacks it.

    Why: a payment made on a payment link has no notes, so payment.captured (and payment.failed,
    refund.*) name only the payment and its `order_id`; the checkout's notes live on the order and the
    link. order.paid and payment_link.paid carry those entities; for the others we fetch the order,
    then (still unresolved) the link the payment's description names. Not when the payment is already
    known here (a later event of a credited checkout) or belongs to a subscription."""
    fact = facts.payment
    if fact is None or fact.gateway != "razorpay" or facts.subscription is not None:
        return
    if fact.recast_payment_id or await _find_payment(session, fact, lock=False) is not None:
        return
    client = deps.providers.gateways.get("razorpay")
    if not isinstance(client, RazorpayGateway):
        return
    order_id = fact.raw.get("order_id")
    if isinstance(order_id, str) and order_id and (order := await client.fetch_order(order_id)):
        billing_events.razorpay_checkout(fact, order)
    if fact.recast_payment_id is None and (link_id := billing_events.razorpay_link_id(fact.raw)):
        link = await client.fetch_payment_link(link_id)
        # Only the link this payment's order belongs to (when Razorpay says which).
        if link and link.get("order_id") in (None, "", order_id):
            billing_events.razorpay_checkout(fact, link)


async def _find_user(session: AsyncSession, facts: billing_events.Facts) -> uuid.UUID | None:
    if facts.payment is not None:
        if facts.payment.user_id:
            return facts.payment.user_id
        # No row lock here: the per-user advisory lock comes first, row locks after it.
        payment = await _find_payment(session, facts.payment, lock=False)
        if payment is not None and payment.user_id:
            return payment.user_id
    if facts.subscription is not None:
        if facts.subscription.user_id:
            return facts.subscription.user_id
        column = SUB_COLUMNS.get(facts.subscription.gateway)
        if column:
            return await session.scalar(
                select(Subscription.user_id).where(getattr(Subscription, column) == facts.subscription.subscription_ref)
            )
    return None


async def _apply_subscription(
    session: AsyncSession,
    fact: billing_events.SubscriptionFact,
    occurred_at: datetime,
    user_id: uuid.UUID,
    outbox: list[ChatSend],
) -> Subscription | None:
    column = SUB_COLUMNS.get(fact.gateway)
    if column is None:
        return None
    sub = await session.scalar(
        select(Subscription).where(getattr(Subscription, column) == fact.subscription_ref).with_for_update()
    )
    plan = await plan_by_slug(session, fact.plan_slug)
    if sub is None:
        live = await billing_usage.live_subscription(session=session, user_id=user_id)
        if live is not None and getattr(live, column) is None:
            sub = live
        else:
            start = fact.period_start or occurred_at
            sub = Subscription(
                user_id=user_id,
                organization_id=live.organization_id if live else None,
                plan_id=plan.id if plan else (live.plan_id if live else None),
                status="trial",
                current_period_start=start,
                current_period_end=fact.period_end or start,
            )
            session.add(sub)
            await session.flush()
        setattr(sub, column, fact.subscription_ref)
    if sub.status in TERMINAL:
        if fact.status == SubStatus.EXPIRED and sub.status == "canceled":
            await transition(
                session=session, sub=sub, to="expired", reason=f"{fact.gateway} completed", occurred_at=occurred_at
            )
        fact.stale = fact.status != SubStatus.EXPIRED
        return sub  # a late charge or update never revives a canceled plan
    if plan is not None and sub.plan_id != plan.id:
        await audit.record(
            session=session,
            action="subscription_plan_changed",
            user_id=sub.user_id,
            resource_type="subscription",
            resource_id=sub.id,
            metadata={"plan": plan.slug, "occurred_at": occurred_at.isoformat()},
        )
        sub.plan_id = plan.id
    renewed = await _apply_period(session, sub, fact, plan, occurred_at)
    if fact.cancel_at_period_end is not None and bool(sub.cancel_at_period_end) != fact.cancel_at_period_end:
        sub.cancel_at_period_end = fact.cancel_at_period_end
        await audit.record(
            session=session,
            action="subscription_cancel_at_period_end",
            user_id=sub.user_id,
            resource_type="subscription",
            resource_id=sub.id,
            metadata={"value": fact.cancel_at_period_end, "occurred_at": occurred_at.isoformat()},
        )
    if fact.status in TERMINAL:
        await transition(
            session=session, sub=sub, to=fact.status, reason=f"{fact.gateway} event", occurred_at=occurred_at
        )
        await notify(
            session=session,
            outbox=outbox,
            user_id=user_id,
            kind=f"subscription_{fact.status}",
            text=(
                "Your Recast plan has been canceled. Send /plans whenever you want to come back."
                if fact.status == SubStatus.CANCELED
                else "Your Recast plan has ended. Send /plans to pick one and keep going."
            ),
        )
    elif fact.status and fact.status != sub.status:
        last = await last_transition_at(session, sub.id)
        if last is None or occurred_at.isoformat() >= last:
            before = sub.status
            await transition(
                session=session, sub=sub, to=fact.status, reason=f"{fact.gateway} event", occurred_at=occurred_at
            )
            if fact.status == SubStatus.ACTIVE and before == "past_due":
                renewed = True
        else:
            fact.stale = True
            log.info("stale %s status %s for subscription %s ignored", fact.gateway, fact.status, sub.id)
    if renewed and sub.status == "active":
        await notify(
            session=session,
            outbox=outbox,
            user_id=user_id,
            kind="subscription_renewed",
            text=f"Your Recast plan renewed. Next renewal: {sub.current_period_end:%d %b %Y}.",
        )
    if plan is not None and sub.status == "active" and sub.user_id:
        await apply_plan_limits(session, sub.user_id, plan)
    return sub


async def _apply_period(
    session: AsyncSession,
    sub: Subscription,
    fact: billing_events.SubscriptionFact,
    plan: SubscriptionPlan | None,
    occurred_at: datetime,
) -> bool:
    """Move the period forward (never back) and audit it; True if that renewed a running plan."""
    start, end = fact.period_start, fact.period_end
    if end is None and fact.paid_at is not None:
        period_plan = plan or (await session.get(SubscriptionPlan, sub.plan_id) if sub.plan_id else None)
        if period_plan is not None:
            start, end = fact.paid_at, add_period(fact.paid_at, period_plan.billing_period)
    if end is None or end <= sub.current_period_end:
        return False
    # A first payment right after activation only nudges the period; one near its end renews it.
    renewed = sub.status in ("active", "past_due") and (
        fact.paid_at is None or fact.paid_at >= sub.current_period_end - RENEWAL_WINDOW
    )
    before = sub.current_period_end
    sub.current_period_start = start or sub.current_period_end
    sub.current_period_end = end
    # Also the evidence that makes older status changes (a late "payment failed") stale.
    await audit.record(
        session=session,
        action="subscription_period_updated",
        user_id=sub.user_id,
        resource_type="subscription",
        resource_id=sub.id,
        metadata={
            "from": before.isoformat(),
            "to": end.isoformat(),
            "gateway": fact.gateway,
            "occurred_at": occurred_at.isoformat(),
        },
    )
    return renewed


async def _activate_paid_plan(
    session: AsyncSession, payment: Payment, plan: SubscriptionPlan, paid_at: datetime, outbox: list[ChatSend]
) -> Subscription:
    assert payment.user_id is not None
    sub = await billing_usage.live_subscription(session=session, user_id=payment.user_id)
    if sub is not None and sub.plan_id == plan.id and sub.status == "active":
        sub.current_period_end = add_period(max(sub.current_period_end, paid_at), plan.billing_period)
        sub.cancel_at_period_end = False
        await audit.record(
            session=session,
            action="subscription_renewed",
            user_id=sub.user_id,
            resource_type="subscription",
            resource_id=sub.id,
            metadata={
                "period_end": sub.current_period_end.isoformat(),
                "payment_id": str(payment.id),
                "occurred_at": paid_at.isoformat(),
            },
        )
        await notify(
            session=session,
            outbox=outbox,
            user_id=payment.user_id,
            kind="subscription_renewed",
            text=f"Your {plan.name} plan is renewed until {sub.current_period_end:%d %b %Y}.",
        )
    else:
        if sub is None:
            sub = Subscription(
                user_id=payment.user_id,
                plan_id=plan.id,
                status="pending",
                current_period_start=paid_at,
                current_period_end=paid_at,
            )
            session.add(sub)
            await session.flush()
        sub.plan_id = plan.id
        sub.current_period_start, sub.current_period_end = paid_at, add_period(paid_at, plan.billing_period)
        sub.cancel_at_period_end = False
        await transition(
            session=session,
            sub=sub,
            to="active",
            reason="payment succeeded",
            occurred_at=paid_at,
            extra={"plan": plan.slug, "payment_id": str(payment.id)},
        )
        await notify(
            session=session,
            outbox=outbox,
            user_id=payment.user_id,
            kind="subscription_activated",
            text=f"Your {plan.name} plan is active until {sub.current_period_end:%d %b %Y}. Enjoy!",
        )
    await apply_plan_limits(session, payment.user_id, plan)
    return sub


async def _succeed(
    session: AsyncSession,
    deps: CoreDeps,
    payment: Payment,
    fact: billing_events.PaymentFact,
    occurred_at: datetime,
    gateway_sub: Subscription | None,
    outbox: list[ChatSend],
) -> None:
    assert payment.user_id is not None
    before = payment.status
    payment.status, payment.paid_at = "succeeded", occurred_at
    await audit.record(
        session=session,
        action="payment_succeeded",
        user_id=payment.user_id,
        resource_type="payment",
        resource_id=payment.id,
        metadata={"from": before, "gateway": fact.gateway, "amount": str(payment.amount), "currency": payment.currency},
    )
    plan = await plan_by_slug(session, (payment.gateway_response or {}).get("plan_slug") or fact.plan_slug)
    if gateway_sub is None and plan is not None:
        sub = await _activate_paid_plan(session, payment, plan, occurred_at, outbox)
        payment.subscription_id = sub.id
    if plan is None and gateway_sub is not None and gateway_sub.plan_id:
        plan = await session.get(SubscriptionPlan, gateway_sub.plan_id)
    description = f"Recast {plan.name} plan ({plan.billing_period})" if plan else "Recast subscription"
    invoice = await invoices.issue_for_payment(
        session=session, settings=deps.settings, store=deps.store, payment=payment, description=description
    )
    await notify(
        session=session,
        outbox=outbox,
        user_id=payment.user_id,
        kind="payment_succeeded",
        text=f"Payment received: {payment.currency} {payment.amount:.2f}. Invoice {invoice.invoice_number} attached.",
        document=deps.store.local_path(invoice.invoice_url) if invoice.invoice_url else None,
        filename=invoice.invoice_number.replace("/", "-") + ".pdf",
    )


async def _apply_payment(
    session: AsyncSession,
    deps: CoreDeps,
    fact: billing_events.PaymentFact,
    occurred_at: datetime,
    user_id: uuid.UUID,
    gateway_sub: Subscription | None,
    outbox: list[ChatSend],
) -> bool:
    payment = await _find_payment(session, fact)
    has_refund = bool(fact.refunds) or bool(fact.refunded_total)
    if payment is None:
        if fact.status is None and not has_refund:
            return False
        payment = Payment(
            user_id=user_id,
            amount=fact.amount or Decimal(0),
            currency=(fact.currency or "INR").upper(),
            status="pending",
            payment_gateway=fact.gateway,
            gateway_response={"plan_slug": fact.plan_slug} if fact.plan_slug else {},
        )
        session.add(payment)
        await session.flush()
    payment.gateway_payment_id = payment.gateway_payment_id or fact.payment_ref
    payment.gateway_order_id = payment.gateway_order_id or (fact.order_refs[0] if fact.order_refs else None)
    if gateway_sub is not None and payment.subscription_id is None:
        payment.subscription_id = gateway_sub.id
    if (not payment.amount) and fact.amount:
        payment.amount = fact.amount
    response = dict(payment.gateway_response or {})

    if (fact.status == PaymentStatus.SUCCEEDED or has_refund) and payment.status not in SUCCEEDED:
        await _succeed(session, deps, payment, fact, occurred_at, gateway_sub, outbox)
    elif fact.status == PaymentStatus.AUTHORIZED and payment.status in ("pending", "failed"):
        payment.status = "authorized"
        await audit.record(
            session=session,
            action="payment_authorized",
            user_id=user_id,
            resource_type="payment",
            resource_id=payment.id,
            metadata={"gateway": fact.gateway},
        )
        if fact.gateway == "paypal" and fact.order_refs:
            await _paypal_capture(deps, fact.order_refs[0])
    elif fact.status == PaymentStatus.FAILED and payment.status in ("pending", "authorized"):
        payment.status = "failed"
        response["error"] = fact.error
        await audit.record(
            session=session,
            action="payment_failed",
            user_id=user_id,
            resource_type="payment",
            resource_id=payment.id,
            metadata={"gateway": fact.gateway, "error": fact.error},
        )
        reason = f" ({fact.error})" if fact.error else ""
        await notify(
            session=session,
            outbox=outbox,
            user_id=user_id,
            kind="payment_failed",
            text=(
                f"Your payment of {payment.currency} {payment.amount:.2f} didn't go through{reason}. "
                "Nothing was charged. Try again with /upgrade — another card or UPI usually works; "
                "if your bank blocked it, approve the payment in your bank app first."
            ),
        )

    if has_refund:
        refunds = {**response.get("refunds", {}), **{k: str(v) for k, v in fact.refunds.items()}}
        response["refunds"] = refunds
        total = max(
            payment.refund_amount or Decimal(0),
            fact.refunded_total or Decimal(0),
            sum((Decimal(v) for v in refunds.values()), Decimal(0)),
        )
        if total > (payment.refund_amount or Decimal(0)):
            payment.refund_amount, payment.refunded_at = total, occurred_at
            full = total >= payment.amount
            payment.status = "refunded" if full else "partially_refunded"
            await audit.record(
                session=session,
                action=f"payment_{payment.status}",
                user_id=user_id,
                resource_type="payment",
                resource_id=payment.id,
                metadata={"refund_amount": str(total), "gateway": fact.gateway},
            )
            if full and payment.subscription_id:
                sub = await session.get(Subscription, payment.subscription_id, with_for_update=True)
                if sub is not None and sub.status not in TERMINAL:
                    await transition(
                        session=session, sub=sub, to="canceled", reason="payment refunded", occurred_at=occurred_at
                    )
    payment.gateway_response = response
    return True


async def _paypal_capture(deps: CoreDeps, order_id: str) -> None:
    client = deps.providers.gateways.get("paypal")
    capture = getattr(client, "capture", None)
    if capture is None:
        return
    try:
        await capture(order_id)
    except GatewayError as exc:
        if "ORDER_ALREADY_CAPTURED" not in str(exc):
            raise


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
    await _resolve_razorpay_checkout(session, deps, facts)
    user_id = await _find_user(session, facts)
    if user_id is None:
        return ProcessResult(EventStatus.IGNORED, note="no Recast payment or subscription matches this event")
    await lock_user(session, user_id)
    outbox: list[ChatSend] = []
    sub = None
    if facts.subscription is not None:
        sub = await _apply_subscription(session, facts.subscription, facts.occurred_at, user_id, outbox)
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
        await _apply_payment(session, deps, facts.payment, facts.occurred_at, user_id, sub, outbox)
    return ProcessResult(EventStatus.PROCESSED, outbox)


# ---------------------------------------------------------------- scheduled
