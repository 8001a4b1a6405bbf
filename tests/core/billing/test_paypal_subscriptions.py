"""PayPal subscriptions: BILLING.SUBSCRIPTION.* and PAYMENT.SALE.* (billing_agreement_id) processed by the real
task, in and out of order, once in effect, every transition audited."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.billing.lifecycle import add_period
from core.billing.models import Invoice, Payment, Subscription, SubscriptionPlan
from core.inbox.models import GatewayEvent
from core.system.models import AuditLog, Notification
from tasks.billing import process_gateway_event

# Event times after the creator's trial began (registration happens at the real now).
T0 = (datetime.now(UTC) + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)


def iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def sub_event(
    event_type: str,
    sub_id: str,
    user_id: uuid.UUID,
    at: datetime,
    *,
    status: str = "ACTIVE",
    next_billing: datetime | None = None,
    failed_at: datetime | None = None,
    plan: str = "creator-monthly",
) -> dict[str, Any]:
    billing: dict[str, Any] = {
        "outstanding_balance": {"currency_code": "USD", "value": "0.00"},
        "failed_payments_count": 0,
    }
    if next_billing:
        billing["next_billing_time"] = iso(next_billing)
        billing["last_payment"] = {"amount": {"currency_code": "USD", "value": "12.00"}, "time": iso(at)}
    if failed_at:
        billing["failed_payments_count"] = 1
        billing["last_failed_payment"] = {
            "amount": {"currency_code": "USD", "value": "12.00"},
            "time": iso(failed_at),
            "reason_code": "PAYMENT_DENIED",
        }
    return {
        "id": "WH-" + uuid.uuid4().hex[:17].upper(),
        "event_version": "1.0",
        "resource_version": "2.0",
        "event_type": event_type,
        "resource_type": "subscription",
        "create_time": iso(at),
        "resource": {
            "id": sub_id,
            "status": status,
            "plan_id": "P-5ML4271244454362WXNWU5NQ",
            "custom_id": f"{user_id}:{plan}",
            "start_time": iso(at),
            "billing_info": billing,
        },
    }


def sale_event(
    sub_id: str, sale_id: str, at: datetime, *, custom: str | None, event_type: str = "PAYMENT.SALE.COMPLETED"
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "id": sale_id,
        "state": "completed",
        "amount": {"total": "12.00", "currency": "USD", "details": {"subtotal": "12.00"}},
        "payment_mode": "INSTANT_TRANSFER",
        "billing_agreement_id": sub_id,
        "create_time": iso(at),
        "update_time": iso(at),
    }
    if custom:
        resource["custom"] = custom
    return {
        "id": "WH-" + uuid.uuid4().hex[:17].upper(),
        "event_version": "1.0",
        "event_type": event_type,
        "resource_type": "sale",
        "create_time": iso(at),
        "resource": resource,
    }


async def deliver(session: AsyncSession, deps, payload: dict[str, Any]) -> GatewayEvent:
    """Store the event as the webhook does, then run the worker's task on it."""
    event = GatewayEvent(
        sender="paypal",
        sender_event_id=payload["id"],
        event_type=payload["event_type"],
        raw_body=json.dumps(payload).encode(),
        headers={},
    )
    session.add(event)
    await session.commit()
    await process_gateway_event(str(event.id), deps)
    await session.refresh(event)
    return event


async def paypal_sub(session: AsyncSession, sub_id: str) -> Subscription:
    sub = await session.scalar(select(Subscription).where(Subscription.paypal_subscription_id == sub_id))
    assert sub is not None
    await session.refresh(sub)
    return sub


async def actions(session: AsyncSession, sub: Subscription) -> list[str]:
    rows = await session.scalars(select(AuditLog.action).where(AuditLog.resource_id == sub.id))
    return list(rows.all())


async def count(session: AsyncSession, model: Any, *where: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def new_ids() -> tuple[str, str]:
    return "I-" + uuid.uuid4().hex[:12].upper(), uuid.uuid4().hex[:17].upper()


async def test_activated_then_sale_then_renewal_with_invoices_and_one_effect_each(seeded, creator, deps):
    session = seeded
    sub_id, sale_id = new_ids()
    custom = f"{creator}:creator-monthly"
    activated = await deliver(
        session,
        deps,
        sub_event("BILLING.SUBSCRIPTION.ACTIVATED", sub_id, creator, T0, next_billing=T0 + timedelta(days=30)),
    )
    assert activated.status == "processed"
    sub = await paypal_sub(session, sub_id)
    # The creator's trial became the PayPal subscription (one live plan per creator).
    assert await count(session, Subscription, Subscription.user_id == creator) == 1
    assert sub.status == "active" and sub.current_period_end == T0 + timedelta(days=30)
    plan = await session.scalar(select(SubscriptionPlan).where(SubscriptionPlan.slug == "creator-monthly"))
    assert plan is not None and sub.plan_id == plan.id

    sale = sale_event(sub_id, sale_id, T0 + timedelta(seconds=20), custom=custom)
    assert (await deliver(session, deps, sale)).status == "processed"
    payment = await session.scalar(select(Payment).where(Payment.gateway_payment_id == sale_id))
    assert payment is not None and payment.status == "succeeded" and payment.subscription_id == sub.id
    assert payment.amount == 12 and payment.currency == "USD" and payment.payment_gateway == "paypal"
    invoice = await session.scalar(select(Invoice).where(Invoice.payment_id == payment.id))
    assert invoice is not None and invoice.tax_amount == 0 and invoice.total_amount == 12
    # The first payment right after activation is not announced as a renewal.
    assert not any("renewed" in m.text for _, m in deps.notifier.sent)

    # The same sale delivered again (PayPal retries with the same event id; a redelivered task too).
    event = await session.scalar(select(GatewayEvent).where(GatewayEvent.sender_event_id == sale["id"]))
    assert event is not None
    assert await process_gateway_event(str(event.id), deps) == "processed"
    assert await count(session, Payment, Payment.gateway_payment_id == sale_id) == 1
    assert await count(session, Invoice, Invoice.payment_id == payment.id) == 1

    # A month later PayPal charges again: a new sale on the same billing agreement renews the period.
    renewal_at = T0 + timedelta(days=30, minutes=5)
    _, sale2 = new_ids()
    await deliver(session, deps, sale_event(sub_id, sale2, renewal_at, custom=custom))
    sub = await paypal_sub(session, sub_id)
    assert sub.status == "active" and sub.current_period_end == add_period(renewal_at, "monthly")
    assert sum("renewed" in m.text for _, m in deps.notifier.sent) == 1
    assert await count(session, Invoice, Invoice.user_id == creator) == 2
    assert {"subscription_active", "subscription_period_updated"} <= set(await actions(session, sub))


async def test_sale_before_activation_is_enough_and_late_activation_changes_nothing(seeded, creator, deps):
    session = seeded
    sub_id, sale_id = new_ids()
    await deliver(
        session, deps, sale_event(sub_id, sale_id, T0 + timedelta(seconds=30), custom=f"{creator}:pro-monthly")
    )
    sub = await paypal_sub(session, sub_id)
    plan = await session.scalar(select(SubscriptionPlan).where(SubscriptionPlan.slug == "pro-monthly"))
    assert plan is not None
    assert sub.status == "active" and sub.plan_id == plan.id
    paid_until = add_period(T0 + timedelta(seconds=30), "monthly")
    assert sub.current_period_end == paid_until
    before = await actions(session, sub)
    late = sub_event(
        "BILLING.SUBSCRIPTION.ACTIVATED", sub_id, creator, T0, next_billing=T0 + timedelta(days=30), plan="pro-monthly"
    )
    assert (await deliver(session, deps, late)).status == "processed"
    sub = await paypal_sub(session, sub_id)
    assert sub.status == "active" and sub.current_period_end == paid_until
    assert await actions(session, sub) == before
    payment = await session.scalar(select(Payment).where(Payment.gateway_payment_id == sale_id))
    assert payment is not None and payment.status == "succeeded" and payment.subscription_id == sub.id


async def test_payment_failed_then_recovered_and_a_stale_failure_after_success(seeded, creator, deps):
    session = seeded
    sub_id, sale_id = new_ids()
    custom = f"{creator}:creator-monthly"
    await deliver(
        session,
        deps,
        sub_event("BILLING.SUBSCRIPTION.ACTIVATED", sub_id, creator, T0, next_billing=T0 + timedelta(days=30)),
    )
    due = T0 + timedelta(days=30)
    failed = sub_event(
        "BILLING.SUBSCRIPTION.PAYMENT.FAILED", sub_id, creator, due + timedelta(minutes=1), failed_at=due
    )
    await deliver(session, deps, failed)
    sub = await paypal_sub(session, sub_id)
    assert sub.status == "past_due"
    failed_payment = await session.scalar(
        select(Payment).where(Payment.subscription_id == sub.id, Payment.status == "failed")
    )
    assert failed_payment is not None and failed_payment.amount == 12
    assert "didn't go through" in deps.notifier.sent[-1][1].text
    # PayPal's retry three days later succeeds.
    await deliver(session, deps, sale_event(sub_id, sale_id, due + timedelta(days=3), custom=custom))
    sub = await paypal_sub(session, sub_id)
    assert sub.status == "active" and sub.current_period_end > due + timedelta(days=30)
    assert any("renewed" in m.text for _, m in deps.notifier.sent)
    sent = len(deps.notifier.sent)
    # A failure notice about an attempt older than that payment arrives late: nothing changes.
    stale = sub_event("BILLING.SUBSCRIPTION.PAYMENT.FAILED", sub_id, creator, due + timedelta(days=1), failed_at=due)
    stale["resource"]["billing_info"]["last_failed_payment"]["time"] = iso(due + timedelta(days=1))
    assert (await deliver(session, deps, stale)).status == "processed"
    sub = await paypal_sub(session, sub_id)
    assert sub.status == "active" and len(deps.notifier.sent) == sent
    assert await count(session, Payment, Payment.subscription_id == sub.id, Payment.status == "failed") == 1
    assert (await actions(session, sub)).count("subscription_past_due") == 1


async def test_suspended_cancelled_and_late_events_never_revive(seeded, creator, deps):
    session = seeded
    sub_id, sale_id = new_ids()
    custom = f"{creator}:creator-monthly"
    await deliver(
        session,
        deps,
        sub_event("BILLING.SUBSCRIPTION.ACTIVATED", sub_id, creator, T0, next_billing=T0 + timedelta(days=30)),
    )
    await deliver(
        session,
        deps,
        sub_event("BILLING.SUBSCRIPTION.SUSPENDED", sub_id, creator, T0 + timedelta(days=31), status="SUSPENDED"),
    )
    sub = await paypal_sub(session, sub_id)
    assert sub.status == "past_due"
    cancelled = sub_event(
        "BILLING.SUBSCRIPTION.CANCELLED", sub_id, creator, T0 + timedelta(days=32), status="CANCELLED"
    )
    await deliver(session, deps, cancelled)
    sub = await paypal_sub(session, sub_id)
    assert sub.status == "canceled" and sub.canceled_at is not None
    assert any("canceled" in m.text for _, m in deps.notifier.sent)
    sent = len(deps.notifier.sent)
    # Late: an activation, a re-activation older than the cancellation, a failed payment, and a sale.
    await deliver(session, deps, sub_event("BILLING.SUBSCRIPTION.ACTIVATED", sub_id, creator, T0))
    await deliver(
        session, deps, sub_event("BILLING.SUBSCRIPTION.RE-ACTIVATED", sub_id, creator, T0 + timedelta(days=31))
    )
    await deliver(
        session,
        deps,
        sub_event(
            "BILLING.SUBSCRIPTION.PAYMENT.FAILED",
            sub_id,
            creator,
            T0 + timedelta(days=30),
            failed_at=T0 + timedelta(days=30),
        ),
    )
    await deliver(session, deps, sale_event(sub_id, sale_id, T0 + timedelta(days=31, hours=2), custom=custom))
    sub = await paypal_sub(session, sub_id)
    assert sub.status == "canceled"
    # The late sale's money is still recorded (and invoiced), but nothing else was said or done.
    payment = await session.scalar(select(Payment).where(Payment.gateway_payment_id == sale_id))
    assert payment is not None and payment.status == "succeeded"
    assert await count(session, Payment, Payment.subscription_id == sub.id, Payment.status == "failed") == 0
    assert [m.text.split(":")[0] for _, m in deps.notifier.sent[sent:]] == ["Payment received"]
    # Every transition audited once, and nothing after the cancellation.
    assert sorted(await actions(session, sub)) == [
        "subscription_active",
        "subscription_canceled",
        "subscription_past_due",
        "subscription_period_updated",
        "subscription_trial_started",
    ]
    # Cancelled twice (a retried delivery as a new event) is still one transition.
    await deliver(session, deps, dict(cancelled, id="WH-" + uuid.uuid4().hex[:17].upper()))
    assert (await actions(session, sub)).count("subscription_canceled") == 1
    assert (
        await count(
            session, Notification, Notification.user_id == creator, Notification.type == "subscription_canceled"
        )
        == 1
    )


async def test_sale_refund_and_unlinked_sales(seeded, creator, deps):
    session = seeded
    sub_id, sale_id = new_ids()
    await deliver(session, deps, sale_event(sub_id, sale_id, T0, custom=f"{creator}:creator-monthly"))
    refund = sale_event(
        sub_id, "REF" + sale_id[:10], T0 + timedelta(days=2), custom=None, event_type="PAYMENT.SALE.REFUNDED"
    )
    refund["resource"].update({"sale_id": sale_id, "amount": {"total": "-12.00", "currency": "USD"}})
    await deliver(session, deps, refund)
    payment = await session.scalar(select(Payment).where(Payment.gateway_payment_id == sale_id))
    assert payment is not None and payment.status == "refunded" and payment.refund_amount == 12
    assert (await paypal_sub(session, sub_id)).status == "canceled"
    # A sale on an agreement nobody knows, without our custom id, is stored and ignored, not guessed.
    stranger = await deliver(session, deps, sale_event("I-UNKNOWN" + sale_id[:4], "S" + sale_id, T0, custom=None))
    assert stranger.status == "ignored"
    # A one-time sale (no billing agreement) is not a subscription payment: ignored too.
    one_time = sale_event(sub_id, "X" + sale_id, T0, custom=f"{creator}:creator-monthly")
    del one_time["resource"]["billing_agreement_id"]
    assert (await deliver(session, deps, one_time)).status == "ignored"


async def test_denied_sale_then_expired(seeded, creator, deps):
    session = seeded
    sub_id, sale_id = new_ids()
    await deliver(
        session,
        deps,
        sub_event("BILLING.SUBSCRIPTION.ACTIVATED", sub_id, creator, T0, next_billing=T0 + timedelta(days=30)),
    )
    denied = sale_event(
        sub_id, sale_id, T0 + timedelta(days=30), custom=f"{creator}:creator-monthly", event_type="PAYMENT.SALE.DENIED"
    )
    await deliver(session, deps, denied)
    sub = await paypal_sub(session, sub_id)
    payment = await session.scalar(select(Payment).where(Payment.gateway_payment_id == sale_id))
    assert sub.status == "past_due" and payment is not None and payment.status == "failed"
    assert "didn't go through" in deps.notifier.sent[-1][1].text
    expired = sub_event("BILLING.SUBSCRIPTION.EXPIRED", sub_id, creator, T0 + timedelta(days=40), status="EXPIRED")
    await deliver(session, deps, expired)
    sub = await paypal_sub(session, sub_id)
    assert sub.status == "expired"
    assert (await actions(session, sub)).count("subscription_expired") == 1
    assert "has ended" in deps.notifier.sent[-1][1].text
