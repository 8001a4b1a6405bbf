"""Cashfree webhook payloads → facts (payment links' payments and refunds)."""

from __future__ import annotations

from typing import Any

from core.billing.facts import Facts, PaymentFact, PaymentStatus
from core.billing.normalizers.read import as_dict, as_time, as_uuid, dig, from_major, take_notes
from core.common.clock import utcnow


def cashfree(payload: dict[str, Any]) -> Facts:
    event = str(payload.get("type") or "")
    data = as_dict(payload.get("data"))
    facts = Facts(occurred_at=as_time(payload.get("event_time")) or utcnow())
    order, pay, refund = as_dict(data.get("order")), as_dict(data.get("payment")), as_dict(data.get("refund"))
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
        fact.amount = from_major(pay.get("payment_amount") or order.get("order_amount"))
        fact.currency = pay.get("payment_currency") or order.get("order_currency")
        fact.error = dig(data, "error_details", "error_description") or pay.get("payment_message")
        take_notes(fact, tags)
        for ref in fact.order_refs:
            fact.recast_payment_id = fact.recast_payment_id or (as_uuid(ref) if ref.startswith("rc_") else None)
        facts.payment = fact
    elif event == "REFUND_STATUS_WEBHOOK" and refund.get("refund_status") == "SUCCESS":
        fact = PaymentFact("cashfree", payment_ref=str(refund.get("cf_payment_id") or "") or None, raw=data)
        fact.order_refs = [str(refund["order_id"])] if refund.get("order_id") else []
        if refund.get("cf_refund_id") and (amount := from_major(refund.get("refund_amount"))):
            fact.refunds[str(refund["cf_refund_id"])] = amount
        facts.payment = fact
    return facts
