"""Gateway-neutral facts (`PaymentFact`, `SubscriptionFact`): what a gateway event says happened.

Every sender names things differently; the billing service only ever sees these facts. Amounts are
converted from minor units where the sender uses them; refunds are carried both as cumulative totals
(Razorpay, Stripe) and per refund id (Cashfree, PayPal) so applying them twice changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any


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
