"""Billing, a payment fact applied: authorised (PayPal orders are captured), succeeded (plan activation
or renewal, the invoice, "payment received"), failed, refunded (a full refund cancels the plan)."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from core.billing import invoices
from core.billing import usage as billing_usage
from core.billing.facts import PaymentFact, PaymentStatus
from core.billing.gateways import GatewayError
from core.billing.lifecycle import (
    SUCCEEDED,
    TERMINAL,
    add_period,
    apply_plan_limits,
    plan_by_slug,
    transition,
)
from core.billing.matching import find_payment
from core.billing.models import Payment, Subscription, SubscriptionPlan
from core.billing.notifications import ChatSend, notify
from core.deps import CoreDeps
from core.system import audit

log = logging.getLogger(__name__)


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
    fact: PaymentFact,
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


async def apply_payment(
    session: AsyncSession,
    deps: CoreDeps,
    fact: PaymentFact,
    occurred_at: datetime,
    user_id: uuid.UUID,
    gateway_sub: Subscription | None,
    outbox: list[ChatSend],
) -> bool:
    payment = await find_payment(session, fact)
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
