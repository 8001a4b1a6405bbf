"""A Recast Razorpay checkout (a payment link) is credited once from payment.captured, order.paid or
payment_link.paid, whichever arrive, in any order, however often.

The entities are what Razorpay sends for a payment-link payment: the payment has no notes (`[]`) and
only its `order_id`; the order carries the link's notes; the link its notes and `reference_id`. The
Razorpay API (orders, payment links) is a local server the official SDK talks to.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.billing import checkout as billing_service
from core.billing.gateways import GatewayError
from core.billing.models import Invoice, Payment
from core.inbox.models import GatewayEvent
from core.system.models import AuditLog, Notification
from core.work.errors import is_transient
from tasks.billing import process_gateway_event

EVENTS = ("payment.captured", "order.paid", "payment_link.paid")


async def deliver(session: AsyncSession, deps, payload: dict[str, Any]) -> GatewayEvent:
    """Store the event as the webhook would (a new Razorpay event id each time), then run the task."""
    event = GatewayEvent(
        sender="razorpay",
        sender_event_id="evt_" + uuid.uuid4().hex[:14],
        event_type=payload["event"],
        raw_body=json.dumps(payload).encode(),
        headers={},
    )
    session.add(event)
    await session.commit()
    await process_gateway_event(str(event.id), deps)
    await session.refresh(event)
    return event


def event(name: str, link: dict[str, Any], order: dict[str, Any], payment: dict[str, Any]) -> dict[str, Any]:
    """The webhook for `name`, with the entities Razorpay puts in it."""
    entities = {
        "payment.captured": {"payment": payment},
        "order.paid": {"payment": payment, "order": order},
        "payment_link.paid": {"payment": payment, "order": order, "payment_link": link},
    }[name]
    return {
        "entity": "event",
        "account_id": "acc_Test",
        "event": name,
        "contains": list(entities),
        "created_at": int(time.time()),
        "payload": {k: {"entity": v} for k, v in entities.items()},
    }


async def count(session: AsyncSession, model: Any, *where: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def paid_checkout(session, deps, fake, user_id, **pay: Any):
    link = await billing_service.create_checkout(session, deps, user_id, "pro-monthly", "INR")
    await session.commit()
    payment = await session.get_one(Payment, link.payment_id)
    assert payment.gateway_order_id is not None and payment.gateway_order_id.startswith("plink_")
    return payment, *fake.razorpay_pay(payment.gateway_order_id, **pay)


async def assert_credited_once(session: AsyncSession, payment: Payment, pay: dict[str, Any], user_id) -> None:
    await session.refresh(payment)
    assert payment.status == "succeeded" and payment.gateway_payment_id == pay["id"]
    assert await count(session, Invoice, Invoice.payment_id == payment.id) == 1
    assert (
        await count(session, AuditLog, AuditLog.resource_id == payment.id, AuditLog.action == "payment_succeeded") == 1
    )
    assert (
        await count(
            session, AuditLog, AuditLog.resource_id == payment.subscription_id, AuditLog.action == "subscription_active"
        )
        == 1
    )
    assert (
        await count(session, Notification, Notification.user_id == user_id, Notification.type == "payment_succeeded")
        == 1
    )
    assert await count(session, Payment, Payment.gateway_payment_id == pay["id"]) == 1


def razorpay_fetches(fake) -> list[str]:
    return [path for name, path, _, _ in fake.requests if name.startswith("razorpay-fetch")]


@pytest.mark.parametrize("name", EVENTS)
async def test_each_event_alone_credits_the_checkout_once(seeded, creator, deps, gateway_apis, name):
    fake, _ = gateway_apis
    payment, link, order, pay = await paid_checkout(seeded, deps, fake, creator)
    assert pay["notes"] == [] and pay["order_id"] == order["id"] == link["order_id"]
    first = await deliver(seeded, deps, event(name, link, order, pay))
    assert first.status == "processed", first.last_error
    # However often: the same stored event run again, and the event delivered again.
    assert await process_gateway_event(str(first.id), deps) == "processed"
    assert (await deliver(seeded, deps, event(name, link, order, pay))).status == "processed"
    await assert_credited_once(seeded, payment, pay, creator)
    if name == "payment.captured":
        # Only the payment in the event: its order, fetched once, named the checkout.
        assert razorpay_fetches(fake) == [f"/v1/orders/{order['id']}"]
    else:
        assert razorpay_fetches(fake) == []  # the order (and link) came in the event


async def test_payment_captured_finds_the_checkout_through_its_payment_link_when_the_order_has_no_notes(
    seeded, creator, deps, gateway_apis
):
    fake, _ = gateway_apis
    payment, link, order, pay = await paid_checkout(seeded, deps, fake, creator, order_notes=False)
    assert order["notes"] == [] and pay["description"] == "#" + link["id"].removeprefix("plink_")
    assert (await deliver(seeded, deps, event("payment.captured", link, order, pay))).status == "processed"
    await assert_credited_once(seeded, payment, pay, creator)
    assert razorpay_fetches(fake) == [f"/v1/orders/{order['id']}", f"/v1/payment_links/{link['id']}"]


@pytest.mark.parametrize("names", list(itertools.permutations(EVENTS)), ids="-then-".join)
async def test_all_three_events_in_every_order_credit_the_checkout_once(seeded, creator, deps, gateway_apis, names):
    fake, _ = gateway_apis
    payment, link, order, pay = await paid_checkout(seeded, deps, fake, creator)
    for name in (*names, *reversed(names)):  # and each once more, as retries from Razorpay would be
        stored = await deliver(seeded, deps, event(name, link, order, pay))
        assert stored.status == "processed", (name, stored.last_error)
    await assert_credited_once(seeded, payment, pay, creator)
    # Razorpay was asked at most once (only when payment.captured came before anything named the checkout).
    assert len(razorpay_fetches(fake)) == (1 if names[0] == "payment.captured" else 0)


async def test_razorpay_api_down_fails_the_event_for_a_retry_that_then_credits_once(
    seeded, creator, deps, gateway_apis
):
    fake, _ = gateway_apis
    payment, link, order, pay = await paid_checkout(seeded, deps, fake, creator)
    fake.razorpay_down = True
    stored = GatewayEvent(
        sender="razorpay",
        sender_event_id="evt_" + uuid.uuid4().hex[:14],
        event_type="payment.captured",
        raw_body=json.dumps(event("payment.captured", link, order, pay)).encode(),
        headers={},
    )
    seeded.add(stored)
    await seeded.commit()
    with pytest.raises(GatewayError) as excinfo:
        await process_gateway_event(str(stored.id), deps)
    await seeded.refresh(stored)
    assert stored.status == "failed" and "razorpay fetch" in (stored.last_error or "")
    await seeded.refresh(payment)
    assert payment.status == "pending"
    assert is_transient(excinfo.value)  # so its work unit retries with backoff
    fake.razorpay_down = False  # the unit's next attempt
    assert await process_gateway_event(str(stored.id), deps) == "processed"
    await assert_credited_once(seeded, payment, pay, creator)


async def test_a_payment_on_an_order_razorpay_does_not_know_is_ignored(seeded, creator, deps, gateway_apis):
    fake, _ = gateway_apis
    pay = {
        "id": "pay_" + uuid.uuid4().hex[:14],
        "entity": "payment",
        "amount": 199900,
        "currency": "INR",
        "status": "captured",
        "order_id": "order_NotOurs0000001",
        "notes": [],
        "description": "Shop order",
    }
    stored = await deliver(
        seeded, deps, {"entity": "event", "event": "payment.captured", "payload": {"payment": {"entity": pay}}}
    )
    assert stored.status == "ignored"
    assert razorpay_fetches(fake) == ["/v1/orders/order_NotOurs0000001"]
    assert await count(seeded, Payment, Payment.gateway_payment_id == pay["id"]) == 0
