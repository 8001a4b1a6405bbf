"""Stored gateway events → gateway-neutral facts: the normalizer for each sender
(`core.billing.normalizers`), producing `core.billing.facts`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.billing.facts import Facts
from core.billing.normalizers import cashfree, paypal, razorpay, stripe
from core.common.clock import utcnow
from core.inbox.payload import parse_object

NORMALIZERS: dict[str, Callable[[dict[str, Any]], Facts]] = {
    "razorpay": razorpay.razorpay,
    "stripe": stripe.stripe,
    "cashfree": cashfree.cashfree,
    "paypal": paypal.paypal,
}


def normalize(sender: str, raw_body: bytes) -> Facts:
    """The facts of a stored event; `MalformedPayload` when the body is none we can process."""
    payload = parse_object(raw_body)
    return NORMALIZERS[sender](payload) if sender in NORMALIZERS else Facts(occurred_at=utcnow())
