"""Gateway events processed by the real task function: idempotent, order-tolerant, audited."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.billing import checkout as billing_service
from core.billing.models import Invoice, Payment, Subscription, SubscriptionPlan
from core.inbox.models import GatewayEvent
from core.system.models import AuditLog, Notification
from tasks.billing import process_gateway_event, send_trial_reminders


async def deliver(
    session: AsyncSession, deps, sender: str, payload: dict[str, Any], event_id: str | None = None
) -> GatewayEvent:
    """Store an event as the webhook would, then run the task on it."""
    event = GatewayEvent(
        sender=sender,
        sender_event_id=event_id or uuid.uuid4().hex,
        event_type=payload.get("event") or payload.get("type") or payload.get("event_type"),
        raw_body=json.dumps(payload).encode(),
        headers={},
    )
    session.add(event)
    await session.commit()
    await process_gateway_event(str(event.id), deps)
    await session.refresh(event)
    return event


def rzp_payment(
    event: str,
    payment_id: str,
    notes: dict[str, str],
    *,
    amount: int = 199900,
    refunded: int = 0,
    created: int | None = None,
    order_id: str = "order_X",
) -> dict[str, Any]:
    return {
        "entity": "event",
        "event": event,
        "created_at": created or int(time.time()),
        "payload": {
            "payment": {
                "entity": {
                    "id": payment_id,
                    "amount": amount,
                    "currency": "INR",
                    "order_id": order_id,
                    "status": event.rsplit(".", maxsplit=1)[-1],
                    "notes": notes,
                    "amount_refunded": refunded,
                    "error_description": "Payment was declined by the bank" if "failed" in event else None,
                }
            }
        },
    }


async def checkout(session, deps, user_id, plan="pro-monthly", currency="INR") -> Payment:
    link = await billing_service.create_checkout(session, deps, user_id, plan, currency)
    await session.commit()
    return await session.get_one(Payment, link.payment_id)


def rzp_event(
    event: str,
    payment: dict[str, Any],
    *,
    order: dict[str, Any] | None = None,
    link: dict[str, Any] | None = None,
    refund: dict[str, Any] | None = None,
    created: int | None = None,
) -> dict[str, Any]:
    """A Razorpay webhook event carrying these entities (payment.* carry only the payment)."""
    payload: dict[str, Any] = {"payment": {"entity": payment}}
    for name, entity in (("order", order), ("payment_link", link), ("refund", refund)):
        if entity is not None:
            payload[name] = {"entity": entity}
    return {
        "entity": "event",
        "event": event,
        "contains": list(payload),
        "created_at": created or int(time.time()),
        "payload": payload,
    }


async def count(session, model, *where) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_captured_before_authorized_activates_once_with_invoice_and_chat(seeded, creator, deps, gateway_apis):
    fake, _ = gateway_apis
    session = seeded
    payment = await checkout(session, deps, creator)
    _, _, pay = fake.razorpay_pay(payment.gateway_order_id)
    captured = await deliver(session, deps, "razorpay", rzp_event("payment.captured", pay))
    assert captured.status == "processed" and captured.attempts == 1
    authorized = await deliver(
        session, deps, "razorpay", rzp_event("payment.authorized", {**pay, "status": "authorized"})
    )
    assert authorized.status == "processed"
    await session.refresh(payment)
    assert payment.status == "succeeded" and payment.gateway_payment_id == pay["id"] and payment.paid_at
    sub = await session.get_one(Subscription, payment.subscription_id)
    plan = await session.scalar(select(SubscriptionPlan).where(SubscriptionPlan.slug == "pro-monthly"))
    assert sub.status == "active" and sub.plan_id == plan.id and sub.current_period_end > datetime.now(UTC)
    invoices = (await session.scalars(select(Invoice).where(Invoice.payment_id == payment.id))).all()
    assert len(invoices) == 1 and invoices[0].invoice_number.startswith("RC/")
    assert invoices[0].total_amount == 1999 and invoices[0].tax_amount == invoices[0].total_amount - invoices[0].amount
    assert {
        row.action for row in (await session.scalars(select(AuditLog).where(AuditLog.resource_id == sub.id))).all()
    } >= {"subscription_active"}
    docs = [m for chat, m in deps.notifier.sent if m.document is not None]
    assert len(docs) == 1 and docs[0].document.exists() and docs[0].filename.startswith("RC-")
    assert all(chat.chat_id == "555001" for chat, _ in deps.notifier.sent)
    assert (
        await count(session, Notification, Notification.user_id == creator, Notification.type == "payment_succeeded")
        == 1
    )
    # The usage limits follow the new plan.
    assert (await billing_service.usage_summary(session, creator)).upload_limit == 40


async def test_same_event_processed_twice_has_one_effect(seeded, creator, deps, gateway_apis):
    fake, _ = gateway_apis
    session = seeded
    payment = await checkout(session, deps, creator)
    _, order, pay = fake.razorpay_pay(payment.gateway_order_id)
    event = await deliver(session, deps, "razorpay", rzp_event("payment.captured", pay))
    assert await process_gateway_event(str(event.id), deps) == "processed"  # redelivered message
    other = await deliver(session, deps, "razorpay", rzp_event("order.paid", pay, order=order))
    assert other.status == "processed"
    assert await count(session, Invoice, Invoice.payment_id == payment.id) == 1
    assert (
        await count(session, AuditLog, AuditLog.resource_id == payment.id, AuditLog.action == "payment_succeeded") == 1
    )
    assert len([m for _, m in deps.notifier.sent if m.document]) == 1


async def test_failed_payment_notifies_what_to_do(seeded, creator, deps, gateway_apis):
    fake, _ = gateway_apis
    session = seeded
    payment = await checkout(session, deps, creator)
    _, _, failed = fake.razorpay_pay(payment.gateway_order_id, status="failed")
    await deliver(session, deps, "razorpay", rzp_event("payment.failed", failed))
    await session.refresh(payment)
    assert payment.status == "failed"
    text = deps.notifier.sent[-1][1].text
    assert "didn't go through" in text and "/upgrade" in text and "declined by the bank" in text
    # A later successful attempt on the same link (same order) still wins.
    _, _, retried = fake.razorpay_pay(payment.gateway_order_id)
    assert retried["order_id"] == failed["order_id"] and retried["id"] != failed["id"]
    await deliver(session, deps, "razorpay", rzp_event("payment.captured", retried))
    await session.refresh(payment)
    assert payment.status == "succeeded"


async def test_partial_then_full_refund_and_refund_before_capture(seeded, creator, deps, gateway_apis):
    fake, _ = gateway_apis
    session = seeded
    payment = await checkout(session, deps, creator)
    _, _, pay = fake.razorpay_pay(payment.gateway_order_id)
    # Refund arrives before capture: the refund implies the capture.
    refund1 = rzp_event(
        "refund.processed",
        {**pay, "amount_refunded": 50000},
        refund={"id": "rfnd_1", "amount": 50000, "payment_id": pay["id"]},
    )
    await deliver(session, deps, "razorpay", refund1)
    await session.refresh(payment)
    assert payment.status == "partially_refunded" and payment.refund_amount == 500
    await deliver(session, deps, "razorpay", rzp_event("payment.captured", pay))
    await session.refresh(payment)
    assert (
        payment.status == "partially_refunded" and await count(session, Invoice, Invoice.payment_id == payment.id) == 1
    )
    refund2 = rzp_event(
        "refund.processed",
        {**pay, "amount_refunded": 199900},
        refund={"id": "rfnd_2", "amount": 149900, "payment_id": pay["id"]},
    )
    await deliver(session, deps, "razorpay", refund2)
    await deliver(session, deps, "razorpay", refund1)  # a late retry of the first refund changes nothing
    await session.refresh(payment)
    assert payment.status == "refunded" and payment.refund_amount == 1999
    sub = await session.get_one(Subscription, payment.subscription_id)
    assert sub.status == "canceled"


def rzp_sub(
    event: str, sub_id: str, user_id: uuid.UUID, *, created: int, start: int, end: int, payment_id: str | None = None
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "subscription": {
            "entity": {
                "id": sub_id,
                "status": event.rsplit(".", maxsplit=1)[-1],
                "current_start": start,
                "current_end": end,
                "notes": {"user_id": str(user_id), "plan_slug": "creator-monthly"},
            }
        }
    }
    if payment_id:
        payload["payment"] = {"entity": {"id": payment_id, "amount": 79900, "currency": "INR", "notes": {}}}
    return {"entity": "event", "event": event, "created_at": created, "payload": payload}


async def test_subscription_charged_after_cancelled_stays_canceled(seeded, creator, deps):
    session = seeded
    now = int(time.time())
    sub_id = "sub_" + uuid.uuid4().hex[:10]
    await deliver(
        session,
        deps,
        "razorpay",
        rzp_sub("subscription.activated", sub_id, creator, created=now - 100, start=now - 100, end=now + 86400 * 30),
    )
    sub = await session.scalar(select(Subscription).where(Subscription.razorpay_subscription_id == sub_id))
    assert sub is not None and sub.status == "active"
    await deliver(
        session,
        deps,
        "razorpay",
        rzp_sub("subscription.cancelled", sub_id, creator, created=now - 10, start=now - 100, end=now + 86400 * 30),
    )
    late = await deliver(
        session,
        deps,
        "razorpay",
        rzp_sub(
            "subscription.charged",
            sub_id,
            creator,
            created=now - 50,
            start=now - 50,
            end=now + 86400 * 60,
            payment_id="pay_S1",
        ),
    )
    assert late.status == "processed"
    await session.refresh(sub)
    assert sub.status == "canceled" and sub.canceled_at is not None
    payment = await session.scalar(select(Payment).where(Payment.gateway_payment_id == "pay_S1"))
    assert payment is not None and payment.status == "succeeded" and payment.subscription_id == sub.id
    actions = [
        a.action
        for a in (
            await session.scalars(select(AuditLog).where(AuditLog.resource_id == sub.id).order_by(AuditLog.created_at))
        ).all()
    ]
    assert "subscription_canceled" in actions and actions.count("subscription_active") == 1


async def test_stale_pending_after_newer_charge_does_not_demote(seeded, creator, deps):
    session = seeded
    now = int(time.time())
    sub_id = "sub_" + uuid.uuid4().hex[:10]
    await deliver(
        session,
        deps,
        "razorpay",
        rzp_sub(
            "subscription.charged", sub_id, creator, created=now, start=now, end=now + 86400 * 30, payment_id="pay_C1"
        ),
    )
    await deliver(
        session,
        deps,
        "razorpay",
        rzp_sub("subscription.pending", sub_id, creator, created=now - 3600, start=now - 86400 * 30, end=now),
    )
    sub = await session.scalar(select(Subscription).where(Subscription.razorpay_subscription_id == sub_id))
    assert sub is not None and sub.status == "active"
    await deliver(
        session,
        deps,
        "razorpay",
        rzp_sub("subscription.halted", sub_id, creator, created=now + 60, start=now, end=now + 86400 * 30),
    )
    await session.refresh(sub)
    assert sub.status == "past_due"


def stripe_invoice_paid(invoice_id: str, sub_id: str, user_id: uuid.UUID, start: int, end: int) -> dict[str, Any]:
    return {
        "id": "evt_" + uuid.uuid4().hex,
        "type": "invoice.paid",
        "created": start,
        "data": {
            "object": {
                "id": invoice_id,
                "object": "invoice",
                "amount_paid": 1200,
                "currency": "usd",
                "subscription": sub_id,
                "subscription_details": {"metadata": {"user_id": str(user_id), "plan_slug": "creator-monthly"}},
                "lines": {"data": [{"period": {"start": start, "end": end}}]},
            }
        },
    }


async def test_retried_invoice_paid_and_renewal(seeded, creator, deps):
    session = seeded
    now = int(time.time())
    sub_id = "sub_" + uuid.uuid4().hex[:10]
    first = stripe_invoice_paid("in_1", sub_id, creator, now, now + 86400 * 30)
    await deliver(session, deps, "stripe", first, event_id=first["id"])
    retry = dict(first, id="evt_" + uuid.uuid4().hex)  # Stripe resent it as a new event
    await deliver(session, deps, "stripe", retry, event_id=retry["id"])
    payments = (await session.scalars(select(Payment).where(Payment.gateway_payment_id == "in_1"))).all()
    assert len(payments) == 1 and payments[0].status == "succeeded" and payments[0].currency == "USD"
    invoice = await session.scalar(select(Invoice).where(Invoice.payment_id == payments[0].id))
    assert invoice is not None and invoice.tax_amount == 0 and invoice.total_amount == 12
    renewal = stripe_invoice_paid("in_2", sub_id, creator, now + 86400 * 30, now + 86400 * 60)
    await deliver(session, deps, "stripe", renewal, event_id=renewal["id"])
    sub = await session.scalar(select(Subscription).where(Subscription.stripe_subscription_id == sub_id))
    assert sub is not None and sub.status == "active"
    assert sub.current_period_end == datetime.fromtimestamp(now + 86400 * 60, UTC)
    assert any("renewed" in m.text for _, m in deps.notifier.sent)
    deleted = {
        "id": "evt_" + uuid.uuid4().hex,
        "type": "customer.subscription.deleted",
        "created": now + 100,
        "data": {"object": {"id": sub_id, "status": "canceled", "metadata": {"user_id": str(creator)}}},
    }
    await deliver(session, deps, "stripe", deleted, event_id=deleted["id"])
    await session.refresh(sub)
    assert sub.status == "canceled"


async def test_unknown_and_unmatched_events_are_ignored(seeded, creator, deps):
    session = seeded
    unknown = await deliver(session, deps, "razorpay", {"event": "fund_account.validation.completed", "payload": {}})
    assert unknown.status == "ignored" and unknown.processed_at is not None
    stranger = await deliver(session, deps, "razorpay", rzp_payment("payment.captured", "pay_Z", {}))
    assert stranger.status == "ignored"


async def test_failure_keeps_traceback_and_retry_succeeds(seeded, creator, deps):
    session = seeded
    ghost = uuid.uuid4()  # a user that does not exist: the insert fails on its foreign key
    event = GatewayEvent(
        sender="razorpay",
        sender_event_id=uuid.uuid4().hex,
        event_type="payment.captured",
        raw_body=json.dumps(
            rzp_payment("payment.captured", "pay_G", {"user_id": str(ghost), "plan_slug": "pro-monthly"})
        ).encode(),
        headers={},
    )
    session.add(event)
    await session.commit()
    with pytest.raises(IntegrityError):
        await process_gateway_event(str(event.id), deps)
    await session.refresh(event)
    assert event.status == "failed" and event.attempts == 1 and "Traceback" in (event.last_error or "")
    assert await count(session, Payment, Payment.gateway_payment_id == "pay_G") == 0


async def test_malformed_stored_bodies_are_marked_malformed_once_without_crashing(seeded, creator, deps):
    # Rows a webhook stored as 'received' before it checked bodies: a NUL (jsonb and text refuse it), a
    # 5,000-digit number, 20,000 levels of nesting. Each is marked once with the reason, never retried.
    session = seeded
    bodies = {
        "NUL": json.dumps(rzp_payment("payment.captured", "pay_N", {"user_id": str(creator), "x": "a\u0000b"})),
        "5000 digits": '{"event": "payment.captured", "n": ' + "9" * 5000 + "}",
        "nested deeper": '{"event": "payment.captured", "a": ' + "[" * 20_000 + "]" * 20_000 + "}",
    }
    for reason, body in bodies.items():
        event = GatewayEvent(
            sender="razorpay",
            sender_event_id=uuid.uuid4().hex,
            event_type="payment.captured",
            raw_body=body.encode(),
            headers={},
        )
        session.add(event)
        await session.commit()
        assert await process_gateway_event(str(event.id), deps) == "malformed"
        await session.refresh(event)
        assert event.status == "malformed" and event.attempts == 1 and reason in (event.last_error or "")
        assert await process_gateway_event(str(event.id), deps) == "malformed"  # a redelivery: no new attempt
        await session.refresh(event)
        assert event.attempts == 1
    assert await count(session, Payment, Payment.gateway_payment_id == "pay_N") == 0


async def test_trial_reminder_sent_once(seeded, creator, deps):
    session = seeded
    sub = await session.scalar(select(Subscription).where(Subscription.user_id == creator))
    assert sub is not None
    sub.trial_end = datetime.now(UTC) + timedelta(days=2)
    await session.commit()
    assert await send_trial_reminders(deps) >= 1
    await send_trial_reminders(deps)
    assert await count(session, Notification, Notification.user_id == creator, Notification.type == "trial_ending") == 1
    assert sum("trial ends" in m.text for _, m in deps.notifier.sent) == 1


async def test_expired_trial_and_cancel_at_period_end(seeded, creator, deps):
    session = seeded
    sub = await session.scalar(select(Subscription).where(Subscription.user_id == creator))
    assert sub is not None
    sub.trial_end = sub.current_period_end = datetime.now(UTC) - timedelta(minutes=1)
    await session.commit()
    await send_trial_reminders(deps)
    await session.refresh(sub)
    assert sub.status == "expired"
    assert (
        await count(session, AuditLog, AuditLog.resource_id == sub.id, AuditLog.action == "subscription_expired") == 1
    )
