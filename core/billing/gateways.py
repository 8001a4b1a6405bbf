"""The payment gateway port: what a checkout asks a gateway for and gets back, the client Protocols
(checkout; optionally stopping and resuming renewals) and the error every client raises.

The real clients (Razorpay, Stripe, Cashfree, PayPal) and `build_gateways` are `core.billing.gateway_clients`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, runtime_checkable

INR_GATEWAYS = ("razorpay", "cashfree")
USD_GATEWAYS = ("stripe", "paypal")


class GatewayError(Exception):
    """The gateway refused or could not be reached. `transient`: a later attempt may succeed (read by
    `core.work.errors.is_transient`, so the work unit retries it with backoff)."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class CheckoutRequest:
    payment_id: uuid.UUID  # our pending `payments` row; travels in the gateway's notes/metadata
    user_id: uuid.UUID
    plan_slug: str
    description: str
    amount: Decimal
    currency: str
    customer_name: str
    customer_email: str | None
    customer_phone: str | None
    return_url: str
    cancel_url: str | None = None  # where a creator who abandons the checkout lands (default: return_url)

    @property
    def abandon_url(self) -> str:
        return self.cancel_url or self.return_url


@dataclass(frozen=True)
class CheckoutSession:
    gateway: str
    url: str
    order_ref: str  # the gateway's id of what it will report back (payment link, session, order)


class GatewayClient(Protocol):
    name: str

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession: ...


@runtime_checkable
class CancelsRenewal(Protocol):
    """A gateway client that can stop a subscription renewing (at the end of the paid period)."""

    async def cancel_subscription(self, subscription_id: str) -> None: ...


@runtime_checkable
class ResumesRenewal(Protocol):
    """A gateway client that can undo a scheduled cancellation."""

    async def resume_subscription(self, subscription_id: str) -> None: ...


def minor_units(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def notes(request: CheckoutRequest) -> dict[str, str]:
    return {
        "recast_payment_id": str(request.payment_id),
        "user_id": str(request.user_id),
        "plan_slug": request.plan_slug,
    }
