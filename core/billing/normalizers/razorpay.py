"""Razorpay webhook payloads → facts (payments, payment links, orders, refunds, subscriptions)."""

from __future__ import annotations

import re
from typing import Any

from core.billing.facts import Facts, PaymentFact, PaymentStatus, SubscriptionFact, SubStatus
from core.billing.normalizers.read import as_time, as_uuid, dig, from_minor, take_notes
from core.common.clock import utcnow

_RZP_SUB = {
    "activated": SubStatus.ACTIVE,
    "charged": SubStatus.ACTIVE,
    "resumed": SubStatus.ACTIVE,
    "pending": SubStatus.PAST_DUE,
    "halted": SubStatus.PAST_DUE,
    "cancelled": SubStatus.CANCELED,
    "completed": SubStatus.EXPIRED,
    "paused": SubStatus.PAST_DUE,
}


def razorpay(payload: dict[str, Any]) -> Facts:
    event = str(payload.get("event") or "")
    facts = Facts(occurred_at=as_time(payload.get("created_at")) or utcnow())
    pay = dig(payload, "payload", "payment", "entity")
    link = dig(payload, "payload", "payment_link", "entity")
    order = dig(payload, "payload", "order", "entity")
    sub = dig(payload, "payload", "subscription", "entity")
    refund = dig(payload, "payload", "refund", "entity")
    status = {
        "payment.authorized": PaymentStatus.AUTHORIZED,
        "payment.captured": PaymentStatus.SUCCEEDED,
        "order.paid": PaymentStatus.SUCCEEDED,
        "payment_link.paid": PaymentStatus.SUCCEEDED,
        "subscription.charged": PaymentStatus.SUCCEEDED,
        "payment.failed": PaymentStatus.FAILED,
    }.get(event)
    if event.startswith("refund.") and event not in ("refund.processed", "refund.created"):
        return facts  # refund.failed etc.: nothing changed on our side
    if isinstance(pay, dict) and (status or event.startswith("refund.")):
        fact = PaymentFact("razorpay", status=status, payment_ref=pay.get("id"), raw=pay)
        fact.order_refs = [str(pay["order_id"])] if pay.get("order_id") else []
        fact.amount, fact.currency = from_minor(pay.get("amount")), pay.get("currency")
        fact.refunded_total = from_minor(pay.get("amount_refunded"))
        fact.error = pay.get("error_description")
        take_notes(fact, pay.get("notes"))
        # A payment-link payment has no notes of its own (`[]`): the link's are on the link and copied
        # to its order (order.paid carries that order; payment.captured only the payment).
        if isinstance(order, dict) and order.get("id") == pay.get("order_id"):
            razorpay_checkout(fact, order)
        if isinstance(link, dict):
            razorpay_checkout(fact, link)
        if isinstance(refund, dict) and refund.get("id") and (amount := from_minor(refund.get("amount"))):
            fact.refunds[str(refund["id"])] = amount
        facts.payment = fact
    if isinstance(sub, dict) and event.startswith("subscription.") and sub.get("id"):
        sfact = SubscriptionFact(
            "razorpay",
            str(sub["id"]),
            status=_RZP_SUB.get(event.split(".", 1)[1]),
            period_start=as_time(sub.get("current_start")),
            period_end=as_time(sub.get("current_end")),
        )
        take_notes(sfact, sub.get("notes"))
        facts.subscription = sfact
        if facts.payment is not None:
            facts.payment.user_id = facts.payment.user_id or sfact.user_id
            facts.payment.plan_slug = facts.payment.plan_slug or sfact.plan_slug
    return facts


def razorpay_checkout(fact: PaymentFact, entity: dict[str, Any]) -> None:
    """What a Razorpay order or payment link (from an event, or fetched) says about the Recast checkout."""
    take_notes(fact, entity.get("notes"))
    if entity.get("entity") != "order":  # a payment link's reference_id is our payment id
        fact.recast_payment_id = fact.recast_payment_id or as_uuid(entity.get("reference_id"))
    for ref in (entity.get("id"), entity.get("order_id")):
        if isinstance(ref, str) and ref and ref not in fact.order_refs:
            fact.order_refs.append(ref)


_RZP_ID = re.compile(r"#([A-Za-z0-9]{8,20})")


def razorpay_link_id(payment: dict[str, Any]) -> str | None:
    """The payment link a Razorpay payment was made on: Razorpay describes those payments as
    `#<link id without plink_>` (the payment entity names no link otherwise)."""
    description = payment.get("description")
    match = _RZP_ID.fullmatch(description) if isinstance(description, str) else None
    return f"plink_{match.group(1)}" if match else None
