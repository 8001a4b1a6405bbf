"""Stripe webhook payloads → facts (checkout sessions, payment intents, charges, invoices, subscriptions)."""

from __future__ import annotations

from typing import Any

from core.billing.facts import Facts, PaymentFact, PaymentStatus, SubscriptionFact, SubStatus
from core.billing.normalizers.read import as_time, as_uuid, dig, from_minor, take_notes
from core.common.clock import utcnow

_STRIPE_SUB = {
    "trialing": SubStatus.TRIAL,
    "active": SubStatus.ACTIVE,
    "past_due": SubStatus.PAST_DUE,
    "unpaid": SubStatus.PAST_DUE,
    "canceled": SubStatus.CANCELED,
    "incomplete_expired": SubStatus.EXPIRED,
}


def _stripe_invoice_subscription(inv: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    sub = inv.get("subscription") or dig(inv, "parent", "subscription_details", "subscription")
    meta = dig(inv, "subscription_details", "metadata") or dig(inv, "parent", "subscription_details", "metadata")
    return (str(sub) if sub else None), (meta if isinstance(meta, dict) else {})


def stripe(payload: dict[str, Any]) -> Facts:
    event = str(payload.get("type") or "")
    obj = dig(payload, "data", "object")
    facts = Facts(occurred_at=as_time(payload.get("created")) or utcnow())
    if not isinstance(obj, dict):
        return facts
    if event in (
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
    ):
        _checkout(event, obj, facts)
    elif event in (
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.amount_capturable_updated",
    ):
        status = {
            "payment_intent.succeeded": PaymentStatus.SUCCEEDED,
            "payment_intent.payment_failed": PaymentStatus.FAILED,
            "payment_intent.amount_capturable_updated": PaymentStatus.AUTHORIZED,
        }[event]
        fact = PaymentFact("stripe", status=status, payment_ref=obj.get("id"), raw=obj)
        fact.amount = from_minor(obj.get("amount_received") or obj.get("amount"))
        fact.currency = (obj.get("currency") or "").upper() or None
        fact.error = dig(obj, "last_payment_error", "message")
        take_notes(fact, obj.get("metadata"))
        facts.payment = fact
    elif event == "charge.refunded":
        fact = PaymentFact("stripe", payment_ref=obj.get("payment_intent"), raw=obj)
        fact.amount, fact.currency = from_minor(obj.get("amount")), (obj.get("currency") or "").upper() or None
        fact.refunded_total = from_minor(obj.get("amount_refunded"))
        take_notes(fact, obj.get("metadata"))
        facts.payment = fact
    elif event in ("invoice.paid", "invoice.payment_succeeded", "invoice.payment_failed"):
        _invoice(event, obj, facts)
    elif event.startswith("customer.subscription.") and obj.get("id"):
        _subscription(event, obj, facts)
    return facts


def _checkout(event: str, obj: dict[str, Any], facts: Facts) -> None:
    if obj.get("mode") == "subscription":
        return  # the subscription's invoice.paid carries the money
    paid = obj.get("payment_status") == "paid" and event != "checkout.session.async_payment_failed"
    fact = PaymentFact(
        "stripe",
        status=PaymentStatus.SUCCEEDED if paid else None,
        raw=obj,
        payment_ref=obj.get("payment_intent") if isinstance(obj.get("payment_intent"), str) else None,
    )
    if event == "checkout.session.async_payment_failed":
        fact.status, fact.error = PaymentStatus.FAILED, "The bank declined the payment."
    fact.order_refs = [obj["id"]] if obj.get("id") else []
    fact.amount, fact.currency = (
        from_minor(obj.get("amount_total")),
        (obj.get("currency") or "").upper() or None,
    )
    fact.recast_payment_id = as_uuid(obj.get("client_reference_id"))
    take_notes(fact, obj.get("metadata"))
    facts.payment = fact


def _invoice(event: str, obj: dict[str, Any], facts: Facts) -> None:
    sub_ref, meta = _stripe_invoice_subscription(obj)
    failed = event == "invoice.payment_failed"
    fact = PaymentFact(
        "stripe",
        status=PaymentStatus.FAILED if failed else PaymentStatus.SUCCEEDED,
        payment_ref=obj.get("id"),
        raw=obj,
    )
    fact.amount = from_minor(obj.get("amount_due") if failed else obj.get("amount_paid"))
    fact.currency = (obj.get("currency") or "").upper() or None
    fact.error = "Your card was declined for the renewal." if failed else None
    take_notes(fact, meta)
    take_notes(fact, obj.get("metadata"))
    facts.payment = fact
    if sub_ref:
        line = dig(obj, "lines", "data")
        period = line[0].get("period") if isinstance(line, list) and line and isinstance(line[0], dict) else {}
        sfact = SubscriptionFact(
            "stripe",
            sub_ref,
            status=SubStatus.PAST_DUE if failed else SubStatus.ACTIVE,
            period_start=None if failed else as_time(dig(period, "start")),
            period_end=None if failed else as_time(dig(period, "end")),
        )
        take_notes(sfact, meta)
        facts.subscription = sfact


def _subscription(event: str, obj: dict[str, Any], facts: Facts) -> None:
    item = dig(obj, "items", "data")
    first = item[0] if isinstance(item, list) and item and isinstance(item[0], dict) else {}
    sub_status = (
        SubStatus.CANCELED if event == "customer.subscription.deleted" else _STRIPE_SUB.get(str(obj.get("status")))
    )
    sfact = SubscriptionFact(
        "stripe",
        str(obj["id"]),
        status=sub_status,
        period_start=as_time(obj.get("current_period_start") or first.get("current_period_start")),
        period_end=as_time(obj.get("current_period_end") or first.get("current_period_end")),
        cancel_at_period_end=obj.get("cancel_at_period_end")
        if isinstance(obj.get("cancel_at_period_end"), bool)
        else None,
    )
    take_notes(sfact, obj.get("metadata"))
    facts.subscription = sfact
