"""PayPal webhook payloads → facts (Orders v2 captures and refunds; subscriptions and their v1 sales)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.billing.facts import Facts, PaymentFact, PaymentStatus, SubscriptionFact, SubStatus
from core.billing.normalizers.read import as_dict, as_time, as_uuid, dig, from_major
from core.common.clock import utcnow


def paypal(payload: dict[str, Any]) -> Facts:
    event = str(payload.get("event_type") or "")
    res = as_dict(payload.get("resource"))
    facts = Facts(occurred_at=as_time(payload.get("create_time")) or utcnow())
    if event in _PAYPAL_SUB:
        return _paypal_subscription(event, res, facts.occurred_at)
    if event in ("PAYMENT.SALE.COMPLETED", "PAYMENT.SALE.DENIED", "PAYMENT.SALE.REFUNDED"):
        return _paypal_sale(event, res, facts.occurred_at)
    status = {
        "CHECKOUT.ORDER.APPROVED": PaymentStatus.AUTHORIZED,
        "PAYMENT.CAPTURE.COMPLETED": PaymentStatus.SUCCEEDED,
        "PAYMENT.CAPTURE.DENIED": PaymentStatus.FAILED,
        "PAYMENT.CAPTURE.DECLINED": PaymentStatus.FAILED,
    }.get(event)
    if status == PaymentStatus.AUTHORIZED:
        unit = (res.get("purchase_units") or [{}])[0]
        fact = PaymentFact("paypal", status=status, order_refs=[str(res.get("id"))], raw=res)
        fact.recast_payment_id = as_uuid(unit.get("custom_id"))
        fact.amount, fact.currency = from_major(dig(unit, "amount", "value")), dig(unit, "amount", "currency_code")
        facts.payment = fact
    elif status:
        fact = PaymentFact("paypal", status=status, payment_ref=res.get("id"), raw=res)
        order_id = dig(res, "supplementary_data", "related_ids", "order_id")
        fact.order_refs = [str(order_id)] if order_id else []
        fact.recast_payment_id = as_uuid(res.get("custom_id"))
        fact.amount, fact.currency = from_major(dig(res, "amount", "value")), dig(res, "amount", "currency_code")
        fact.error = "PayPal declined the payment." if status == PaymentStatus.FAILED else None
        facts.payment = fact
    elif event == "PAYMENT.CAPTURE.REFUNDED" and res.get("id"):
        capture = next(
            (
                str(link["href"]).rsplit("/", 1)[-1]
                for link in res.get("links", [])
                if isinstance(link, dict) and link.get("rel") == "up" and link.get("href")
            ),
            None,
        )
        fact = PaymentFact("paypal", payment_ref=capture, raw=res)
        fact.recast_payment_id = as_uuid(res.get("custom_id"))
        if amount := from_major(dig(res, "amount", "value")):
            fact.refunds[str(res["id"])] = amount
        facts.payment = fact
    return facts


def _paypal_custom(fact: PaymentFact | SubscriptionFact, custom: Any) -> None:
    """A PayPal subscription's `custom_id` (echoed as a sale's `custom`): "<user uuid>[:<plan slug>]"."""
    if not isinstance(custom, str) or not custom:
        return
    user, _, plan = custom.partition(":")
    fact.user_id = fact.user_id or as_uuid(user)
    fact.plan_slug = fact.plan_slug or (plan or None)


_PAYPAL_SUB = {
    "BILLING.SUBSCRIPTION.ACTIVATED": SubStatus.ACTIVE,
    "BILLING.SUBSCRIPTION.RE-ACTIVATED": SubStatus.ACTIVE,
    "BILLING.SUBSCRIPTION.SUSPENDED": SubStatus.PAST_DUE,
    "BILLING.SUBSCRIPTION.PAYMENT.FAILED": SubStatus.PAST_DUE,
    "BILLING.SUBSCRIPTION.CANCELLED": SubStatus.CANCELED,
    "BILLING.SUBSCRIPTION.EXPIRED": SubStatus.EXPIRED,
}


def _paypal_subscription(event: str, res: dict[str, Any], occurred_at: datetime) -> Facts:
    facts = Facts(occurred_at=occurred_at)
    if not res.get("id"):
        return facts
    billing = as_dict(res.get("billing_info"))
    sfact = SubscriptionFact(
        "paypal",
        str(res["id"]),
        status=_PAYPAL_SUB[event],
        period_start=as_time(dig(billing, "last_payment", "time")) if event.endswith("ACTIVATED") else None,
        period_end=as_time(billing.get("next_billing_time")) if event.endswith("ACTIVATED") else None,
    )
    _paypal_custom(sfact, res.get("custom_id"))
    facts.subscription = sfact
    if event == "BILLING.SUBSCRIPTION.PAYMENT.FAILED":
        failed = as_dict(billing.get("last_failed_payment"))
        when = str(failed.get("time") or occurred_at.isoformat())
        # No PayPal id for a failed attempt: one per subscription and attempt time, so a re-run finds it.
        fact = PaymentFact("paypal", status=PaymentStatus.FAILED, payment_ref=f"{res['id']}:failed:{when}", raw=res)
        fact.amount = from_major(dig(failed, "amount", "value"))
        fact.currency = dig(failed, "amount", "currency_code")
        fact.error = "PayPal could not collect the renewal"
        fact.user_id, fact.plan_slug = sfact.user_id, sfact.plan_slug
        facts.payment = fact
    return facts


def _paypal_sale(event: str, res: dict[str, Any], occurred_at: datetime) -> Facts:
    """Subscription payments (v1 sales carrying `billing_agreement_id`); one-time checkouts use captures."""
    facts = Facts(occurred_at=occurred_at)
    agreement = res.get("billing_agreement_id")
    if not agreement or not res.get("id"):
        return facts
    custom = res.get("custom") or res.get("custom_id")
    amount = dig(res, "amount", "total")
    if event == "PAYMENT.SALE.REFUNDED":
        fact = PaymentFact("paypal", payment_ref=str(res.get("sale_id") or "") or None, raw=res)
        if refunded := from_major(str(amount).lstrip("-") if amount is not None else None):
            fact.refunds[str(res["id"])] = refunded
        _paypal_custom(fact, custom)
        facts.payment = fact
        return facts
    ok = event == "PAYMENT.SALE.COMPLETED"
    fact = PaymentFact(
        "paypal", status=PaymentStatus.SUCCEEDED if ok else PaymentStatus.FAILED, payment_ref=str(res["id"]), raw=res
    )
    fact.amount, fact.currency = from_major(amount), dig(res, "amount", "currency")
    fact.error = None if ok else "PayPal denied the renewal payment"
    _paypal_custom(fact, custom)
    sfact = SubscriptionFact(
        "paypal",
        str(agreement),
        status=SubStatus.ACTIVE if ok else SubStatus.PAST_DUE,
        paid_at=(as_time(res.get("create_time")) or occurred_at) if ok else None,
        user_id=fact.user_id,
        plan_slug=fact.plan_slug,
    )
    facts.payment, facts.subscription = fact, sfact
    return facts
