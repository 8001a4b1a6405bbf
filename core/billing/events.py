"""Gateway payloads → gateway-neutral facts (`PaymentFact`, `SubscriptionFact`).

Every sender names things differently; the billing service only ever sees these facts. Amounts are
converted from minor units where the sender uses them; refunds are carried both as cumulative totals
(Razorpay, Stripe) and per refund id (Cashfree, PayPal) so applying them twice changes nothing.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from core.common.clock import utcnow
from core.inbox.payload import parse_object


class PaymentStatus(StrEnum):
    """What a gateway event says happened to a payment (stored and compared as its value)."""

    AUTHORIZED = "authorized"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class SubStatus(StrEnum):
    """What a gateway event says a subscription now is (its value is `subscriptions.status`)."""

    TRIAL = "trial"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELED = "canceled"
    EXPIRED = "expired"


@dataclass
class PaymentFact:
    gateway: str
    status: PaymentStatus | None = None
    payment_ref: str | None = None
    order_refs: list[str] = field(default_factory=list)
    recast_payment_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    plan_slug: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    refunded_total: Decimal | None = None
    refunds: dict[str, Decimal] = field(default_factory=dict)
    error: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class SubscriptionFact:
    gateway: str
    subscription_ref: str
    status: SubStatus | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None
    cancel_at_period_end: bool | None = None
    user_id: uuid.UUID | None = None
    plan_slug: str | None = None
    # A payment for a new billing period made at this time. When the sender gives no period (PayPal
    # sales), the period is the plan's billing period from here.
    paid_at: datetime | None = None
    # Set by the billing service when this status change was older than one already applied.
    stale: bool = False


@dataclass
class Facts:
    occurred_at: datetime
    payment: PaymentFact | None = None
    subscription: SubscriptionFact | None = None

    @property
    def empty(self) -> bool:
        return self.payment is None and self.subscription is None


def _d(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _uuid(value: Any) -> uuid.UUID | None:
    if not value:
        return None
    text = str(value)
    if text.startswith("rc_"):
        text = text[3:]
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _ts(value: Any) -> datetime | None:
    if isinstance(value, int | float) and value > 0:
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _minor(value: Any) -> Decimal | None:
    return Decimal(int(value)) / 100 if isinstance(value, int | float | str) and str(value).isdigit() else None


def _major(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except ArithmeticError:
        return None


def _meta(fact: PaymentFact | SubscriptionFact, notes: Any) -> None:
    if not isinstance(notes, dict):
        return
    fact.user_id = fact.user_id or _uuid(notes.get("user_id"))
    fact.plan_slug = fact.plan_slug or notes.get("plan_slug")
    if isinstance(fact, PaymentFact):
        fact.recast_payment_id = fact.recast_payment_id or _uuid(notes.get("recast_payment_id"))


# ---------------------------------------------------------------- Razorpay

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
    facts = Facts(occurred_at=_ts(payload.get("created_at")) or utcnow())
    pay = _d(payload, "payload", "payment", "entity")
    link = _d(payload, "payload", "payment_link", "entity")
    order = _d(payload, "payload", "order", "entity")
    sub = _d(payload, "payload", "subscription", "entity")
    refund = _d(payload, "payload", "refund", "entity")
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
        fact.amount, fact.currency = _minor(pay.get("amount")), pay.get("currency")
        fact.refunded_total = _minor(pay.get("amount_refunded"))
        fact.error = pay.get("error_description")
        _meta(fact, pay.get("notes"))
        # A payment-link payment has no notes of its own (`[]`): the link's are on the link and copied
        # to its order (order.paid carries that order; payment.captured only the payment).
        if isinstance(order, dict) and order.get("id") == pay.get("order_id"):
            razorpay_checkout(fact, order)
        if isinstance(link, dict):
            razorpay_checkout(fact, link)
        if isinstance(refund, dict) and refund.get("id") and (amount := _minor(refund.get("amount"))):
            fact.refunds[str(refund["id"])] = amount
        facts.payment = fact
    if isinstance(sub, dict) and event.startswith("subscription.") and sub.get("id"):
        sfact = SubscriptionFact(
            "razorpay",
            str(sub["id"]),
            status=_RZP_SUB.get(event.split(".", 1)[1]),
            period_start=_ts(sub.get("current_start")),
            period_end=_ts(sub.get("current_end")),
        )
        _meta(sfact, sub.get("notes"))
        facts.subscription = sfact
        if facts.payment is not None:
            facts.payment.user_id = facts.payment.user_id or sfact.user_id
            facts.payment.plan_slug = facts.payment.plan_slug or sfact.plan_slug
    return facts


def razorpay_checkout(fact: PaymentFact, entity: dict[str, Any]) -> None:
    """What a Razorpay order or payment link (from an event, or fetched) says about the Recast checkout."""
    _meta(fact, entity.get("notes"))
    if entity.get("entity") != "order":  # a payment link's reference_id is our payment id
        fact.recast_payment_id = fact.recast_payment_id or _uuid(entity.get("reference_id"))
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


# ---------------------------------------------------------------- Stripe

_STRIPE_SUB = {
    "trialing": SubStatus.TRIAL,
    "active": SubStatus.ACTIVE,
    "past_due": SubStatus.PAST_DUE,
    "unpaid": SubStatus.PAST_DUE,
    "canceled": SubStatus.CANCELED,
    "incomplete_expired": SubStatus.EXPIRED,
}


def _stripe_invoice_subscription(inv: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    sub = inv.get("subscription") or _d(inv, "parent", "subscription_details", "subscription")
    meta = _d(inv, "subscription_details", "metadata") or _d(inv, "parent", "subscription_details", "metadata")
    return (str(sub) if sub else None), (meta if isinstance(meta, dict) else {})


def stripe(payload: dict[str, Any]) -> Facts:
    event = str(payload.get("type") or "")
    obj = _d(payload, "data", "object")
    facts = Facts(occurred_at=_ts(payload.get("created")) or utcnow())
    if not isinstance(obj, dict):
        return facts
    if event in (
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
    ):
        if obj.get("mode") == "subscription":
            return facts  # the subscription's invoice.paid carries the money
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
            _minor(obj.get("amount_total")),
            (obj.get("currency") or "").upper() or None,
        )
        fact.recast_payment_id = _uuid(obj.get("client_reference_id"))
        _meta(fact, obj.get("metadata"))
        facts.payment = fact
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
        fact.amount = _minor(obj.get("amount_received") or obj.get("amount"))
        fact.currency = (obj.get("currency") or "").upper() or None
        fact.error = _d(obj, "last_payment_error", "message")
        _meta(fact, obj.get("metadata"))
        facts.payment = fact
    elif event == "charge.refunded":
        fact = PaymentFact("stripe", payment_ref=obj.get("payment_intent"), raw=obj)
        fact.amount, fact.currency = _minor(obj.get("amount")), (obj.get("currency") or "").upper() or None
        fact.refunded_total = _minor(obj.get("amount_refunded"))
        _meta(fact, obj.get("metadata"))
        facts.payment = fact
    elif event in ("invoice.paid", "invoice.payment_succeeded", "invoice.payment_failed"):
        sub_ref, meta = _stripe_invoice_subscription(obj)
        failed = event == "invoice.payment_failed"
        fact = PaymentFact(
            "stripe",
            status=PaymentStatus.FAILED if failed else PaymentStatus.SUCCEEDED,
            payment_ref=obj.get("id"),
            raw=obj,
        )
        fact.amount = _minor(obj.get("amount_due") if failed else obj.get("amount_paid"))
        fact.currency = (obj.get("currency") or "").upper() or None
        fact.error = "Your card was declined for the renewal." if failed else None
        _meta(fact, meta)
        _meta(fact, obj.get("metadata"))
        facts.payment = fact
        if sub_ref:
            line = _d(obj, "lines", "data")
            period = line[0].get("period") if isinstance(line, list) and line and isinstance(line[0], dict) else {}
            sfact = SubscriptionFact(
                "stripe",
                sub_ref,
                status=SubStatus.PAST_DUE if failed else SubStatus.ACTIVE,
                period_start=None if failed else _ts(_d(period, "start")),
                period_end=None if failed else _ts(_d(period, "end")),
            )
            _meta(sfact, meta)
            facts.subscription = sfact
    elif event.startswith("customer.subscription.") and obj.get("id"):
        item = _d(obj, "items", "data")
        first = item[0] if isinstance(item, list) and item and isinstance(item[0], dict) else {}
        sub_status = (
            SubStatus.CANCELED if event == "customer.subscription.deleted" else _STRIPE_SUB.get(str(obj.get("status")))
        )
        sfact = SubscriptionFact(
            "stripe",
            str(obj["id"]),
            status=sub_status,
            period_start=_ts(obj.get("current_period_start") or first.get("current_period_start")),
            period_end=_ts(obj.get("current_period_end") or first.get("current_period_end")),
            cancel_at_period_end=obj.get("cancel_at_period_end")
            if isinstance(obj.get("cancel_at_period_end"), bool)
            else None,
        )
        _meta(sfact, obj.get("metadata"))
        facts.subscription = sfact
    return facts


# ---------------------------------------------------------------- Cashfree


def cashfree(payload: dict[str, Any]) -> Facts:
    event = str(payload.get("type") or "")
    data = _obj(payload.get("data"))
    facts = Facts(occurred_at=_ts(payload.get("event_time")) or utcnow())
    order, pay, refund = _obj(data.get("order")), _obj(data.get("payment")), _obj(data.get("refund"))
    tags = order.get("order_tags")
    if event in ("PAYMENT_SUCCESS_WEBHOOK", "PAYMENT_FAILED_WEBHOOK"):
        ok = event == "PAYMENT_SUCCESS_WEBHOOK" and pay.get("payment_status") == "SUCCESS"
        fact = PaymentFact(
            "cashfree",
            status=PaymentStatus.SUCCEEDED if ok else PaymentStatus.FAILED,
            payment_ref=str(pay["cf_payment_id"]) if pay.get("cf_payment_id") else None,
            raw=data,
        )
        refs = [order.get("order_id")] + (
            [tags.get("link_id"), tags.get("cf_link_id")] if isinstance(tags, dict) else []
        )
        fact.order_refs = [str(r) for r in refs if r]
        fact.amount = _major(pay.get("payment_amount") or order.get("order_amount"))
        fact.currency = pay.get("payment_currency") or order.get("order_currency")
        fact.error = _d(data, "error_details", "error_description") or pay.get("payment_message")
        _meta(fact, tags)
        for ref in fact.order_refs:
            fact.recast_payment_id = fact.recast_payment_id or (_uuid(ref) if ref.startswith("rc_") else None)
        facts.payment = fact
    elif event == "REFUND_STATUS_WEBHOOK" and refund.get("refund_status") == "SUCCESS":
        fact = PaymentFact("cashfree", payment_ref=str(refund.get("cf_payment_id") or "") or None, raw=data)
        fact.order_refs = [str(refund["order_id"])] if refund.get("order_id") else []
        if refund.get("cf_refund_id") and (amount := _major(refund.get("refund_amount"))):
            fact.refunds[str(refund["cf_refund_id"])] = amount
        facts.payment = fact
    return facts


# ---------------------------------------------------------------- PayPal


def paypal(payload: dict[str, Any]) -> Facts:
    event = str(payload.get("event_type") or "")
    res = _obj(payload.get("resource"))
    facts = Facts(occurred_at=_ts(payload.get("create_time")) or utcnow())
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
        fact.recast_payment_id = _uuid(unit.get("custom_id"))
        fact.amount, fact.currency = _major(_d(unit, "amount", "value")), _d(unit, "amount", "currency_code")
        facts.payment = fact
    elif status:
        fact = PaymentFact("paypal", status=status, payment_ref=res.get("id"), raw=res)
        order_id = _d(res, "supplementary_data", "related_ids", "order_id")
        fact.order_refs = [str(order_id)] if order_id else []
        fact.recast_payment_id = _uuid(res.get("custom_id"))
        fact.amount, fact.currency = _major(_d(res, "amount", "value")), _d(res, "amount", "currency_code")
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
        fact.recast_payment_id = _uuid(res.get("custom_id"))
        if amount := _major(_d(res, "amount", "value")):
            fact.refunds[str(res["id"])] = amount
        facts.payment = fact
    return facts


def _paypal_custom(fact: PaymentFact | SubscriptionFact, custom: Any) -> None:
    """A PayPal subscription's `custom_id` (echoed as a sale's `custom`): "<user uuid>[:<plan slug>]"."""
    if not isinstance(custom, str) or not custom:
        return
    user, _, plan = custom.partition(":")
    fact.user_id = fact.user_id or _uuid(user)
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
    billing = _obj(res.get("billing_info"))
    sfact = SubscriptionFact(
        "paypal",
        str(res["id"]),
        status=_PAYPAL_SUB[event],
        period_start=_ts(_d(billing, "last_payment", "time")) if event.endswith("ACTIVATED") else None,
        period_end=_ts(billing.get("next_billing_time")) if event.endswith("ACTIVATED") else None,
    )
    _paypal_custom(sfact, res.get("custom_id"))
    facts.subscription = sfact
    if event == "BILLING.SUBSCRIPTION.PAYMENT.FAILED":
        failed = _obj(billing.get("last_failed_payment"))
        when = str(failed.get("time") or occurred_at.isoformat())
        # No PayPal id for a failed attempt: one per subscription and attempt time, so a re-run finds it.
        fact = PaymentFact("paypal", status=PaymentStatus.FAILED, payment_ref=f"{res['id']}:failed:{when}", raw=res)
        fact.amount = _major(_d(failed, "amount", "value"))
        fact.currency = _d(failed, "amount", "currency_code")
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
    amount = _d(res, "amount", "total")
    if event == "PAYMENT.SALE.REFUNDED":
        fact = PaymentFact("paypal", payment_ref=str(res.get("sale_id") or "") or None, raw=res)
        if refunded := _major(str(amount).lstrip("-") if amount is not None else None):
            fact.refunds[str(res["id"])] = refunded
        _paypal_custom(fact, custom)
        facts.payment = fact
        return facts
    ok = event == "PAYMENT.SALE.COMPLETED"
    fact = PaymentFact(
        "paypal", status=PaymentStatus.SUCCEEDED if ok else PaymentStatus.FAILED, payment_ref=str(res["id"]), raw=res
    )
    fact.amount, fact.currency = _major(amount), _d(res, "amount", "currency")
    fact.error = None if ok else "PayPal denied the renewal payment"
    _paypal_custom(fact, custom)
    sfact = SubscriptionFact(
        "paypal",
        str(agreement),
        status=SubStatus.ACTIVE if ok else SubStatus.PAST_DUE,
        paid_at=(_ts(res.get("create_time")) or occurred_at) if ok else None,
        user_id=fact.user_id,
        plan_slug=fact.plan_slug,
    )
    facts.payment, facts.subscription = fact, sfact
    return facts


NORMALIZERS = {"razorpay": razorpay, "stripe": stripe, "cashfree": cashfree, "paypal": paypal}


def normalize(sender: str, raw_body: bytes) -> Facts:
    """The facts of a stored event; `MalformedPayload` when the body is none we can process."""
    payload = parse_object(raw_body)
    return NORMALIZERS[sender](payload) if sender in NORMALIZERS else Facts(occurred_at=utcnow())
