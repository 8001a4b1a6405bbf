"""Billing, buying side: plans and prices, currency and tax notes, checkout links, the return page's
payment status, and the usage summary a creator sees."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import User
from core.billing import invoices
from core.billing import usage as billing_usage
from core.billing.gateways import (
    INR_GATEWAYS,
    USD_GATEWAYS,
    CheckoutRequest,
    GatewayClient,
    GatewayError,
)
from core.billing.lifecycle import SUCCEEDED
from core.billing.models import Payment, SubscriptionPlan
from core.common.errors import NotFound, RecastError
from core.deps import CoreDeps
from core.system import audit

log = logging.getLogger(__name__)


class NoGatewayAvailable(RecastError):
    user_message = "Payments in that currency aren't available right now. Please try again later."


CURRENCY_NAMES = {"INR": "Indian rupees", "USD": "US dollars"}


def payments_off_message(contact: str | None) -> str:
    """What a creator is told on a server that takes no payments (no gateway configured)."""
    who = contact or "the person who runs this Recast server"
    return (
        "This Recast server doesn't take payments, so plans can't be bought or changed here. "
        f"For more uploads or credits, contact {who}."
    )


class PaymentsOff(RecastError):
    """No payment gateway is configured at all: nothing can be bought on this server."""

    def __init__(self, contact: str | None) -> None:
        super().__init__(payments_off_message(contact), detail="no payment gateway configured")


def payments_enabled(deps: CoreDeps) -> bool:
    return bool(deps.providers.gateways)


def payable_currencies(deps: CoreDeps) -> list[str]:
    clients = deps.providers.gateways
    return [currency for currency, names in (("INR", INR_GATEWAYS), ("USD", USD_GATEWAYS)) if set(names) & set(clients)]


class CheckoutFailed(RecastError):
    user_message = "I couldn't create a payment link just now. Please try /upgrade again in a minute."


# ---------------------------------------------------------------- plans and checkout (the bot calls these)


@dataclass(frozen=True)
class PlanOffer:
    slug: str
    name: str
    description: str | None
    billing_period: str
    price: Decimal
    currency: str
    limits: dict[str, Any]


@dataclass(frozen=True)
class CheckoutLink:
    url: str
    gateway: str
    payment_id: uuid.UUID


@dataclass(frozen=True)
class UsageSummary:
    plan_name: str | None
    plan_slug: str | None
    status: str | None
    period_end: datetime | None
    trial_end: datetime | None
    cancel_at_period_end: bool
    uploads_used: int
    upload_limit: int | None
    credits_used: int
    credit_limit: int | None
    storage_used_bytes: int
    storage_limit_bytes: int | None


def currency_for(country_code: str | None, requested: str = "") -> str:
    """The currency a creator is shown: one they asked for (`USD`/`INR` among the words), else INR in
    India (the default country) and USD elsewhere."""
    words = {w.upper() for w in requested.split()}
    for currency in ("USD", "INR"):
        if currency in words:
            return currency
    return "INR" if (country_code or "IN") == "IN" else "USD"


def tax_note(currency: str) -> str:
    """What the listed prices include: GST at `invoices.GST_RATE` for INR prices, nothing otherwise."""
    if currency != "INR":
        return ""
    return f" incl. {invoices.GST_RATE * 100:.0f}% GST"


@dataclass(frozen=True)
class PlanCatalogue:
    """What /plans shows a creator: the plans in their currency, and whether they can be bought here."""

    currency: str
    offers: list[PlanOffer]
    tax_note: str  # what the prices include (" incl. 18% GST" for INR), "" otherwise
    other_currency: str  # the currency the list can be switched to
    payable: bool  # a gateway for `currency` is configured
    payments_off: str | None  # why nothing can be bought on this server; None when payments are on


async def plan_catalogue(
    session: AsyncSession, deps: CoreDeps, country_code: str | None, requested: str = ""
) -> PlanCatalogue:
    """The plans for a creator in the currency `currency_for` picks (one they asked for among the words of
    `requested`, else by country)."""
    currency = currency_for(country_code, requested)
    return PlanCatalogue(
        currency=currency,
        offers=await list_plans(session, currency),
        tax_note=tax_note(currency),
        other_currency="USD" if currency == "INR" else "INR",
        payable=currency in payable_currencies(deps),
        payments_off=None if payments_enabled(deps) else payments_off_message(deps.settings.billing_contact),
    )


async def checkout_for_plan(
    session: AsyncSession,
    deps: CoreDeps,
    user_id: uuid.UUID,
    country_code: str | None,
    plan_slug: str,
    requested: str = "",
) -> CheckoutLink:
    """/upgrade <plan> [currency]: a checkout for the plan in the currency `currency_for` picks."""
    currency = currency_for(country_code, requested)
    return await create_checkout(session, deps, user_id, plan_slug.lower(), currency)


def _price(plan: SubscriptionPlan, currency: str) -> Decimal | None:
    return plan.price_inr if currency.upper() == "INR" else plan.price_usd if currency.upper() == "USD" else None


async def list_plans(session: AsyncSession, currency: str) -> list[PlanOffer]:
    """Active plans priced in `currency` (INR or USD), in display order."""
    plans = (
        await session.scalars(
            select(SubscriptionPlan)
            .where(SubscriptionPlan.is_active.is_not(False))
            .order_by(SubscriptionPlan.sort_order)
        )
    ).all()
    out = []
    for plan in plans:
        price = _price(plan, currency)
        if price is not None:
            out.append(
                PlanOffer(
                    plan.slug,
                    plan.name,
                    plan.description,
                    plan.billing_period,
                    price,
                    currency.upper(),
                    dict(plan.limits),
                )
            )
    return out


def choose_gateway(
    deps: CoreDeps, currency: str, preferred: str | None = None, *, plan_slug: str = "pro-monthly"
) -> GatewayClient:
    """Razorpay then Cashfree for INR, Stripe then PayPal for USD, among the configured clients."""
    clients = deps.providers.gateways
    if not clients:
        raise PaymentsOff(deps.settings.billing_contact)
    order = INR_GATEWAYS if currency.upper() == "INR" else USD_GATEWAYS if currency.upper() == "USD" else ()
    if preferred in order and preferred in clients:
        return clients[preferred]
    for name in order:
        if name in clients:
            return clients[name]
    others = [c for c in payable_currencies(deps) if c != currency.upper()]
    message = (
        f"Payments in {currency.upper()} aren't set up on this server. You can pay in "
        + " or ".join(f"{CURRENCY_NAMES.get(c, c)}: /upgrade {plan_slug} {c}" for c in others)
        + "."
    )
    raise NoGatewayAvailable(message, detail=f"no gateway configured for {currency}")


def return_url(public_base_url: str, payment_id: uuid.UUID, *, cancelled: bool = False) -> str:
    """Where the gateway sends the creator back: the page of `webhooks.billing_return` for this payment."""
    url = f"{public_base_url.rstrip('/')}/billing/return?payment={payment_id}"
    return url + ("&result=cancelled" if cancelled else "")


class ReturnState(StrEnum):
    """What the return page may say about a payment."""

    PAID = "paid"
    PENDING = "pending"
    CANCELLED = "cancelled"
    FAILED = "failed"
    REFUNDED = "refunded"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ReturnStatus:
    state: ReturnState
    plan_name: str | None = None


async def payment_return_status(
    session: AsyncSession, payment_id: uuid.UUID | None, *, gateway_says: str | None
) -> ReturnStatus:
    """What the return page may truthfully say: paid only once the stored payment succeeded (its webhook
    processed); what the gateway put in the return URL (cancelled, paid) only decides among the rest."""
    payment = await session.get(Payment, payment_id) if payment_id is not None else None
    if payment is None:
        return ReturnStatus(ReturnState.UNKNOWN)
    slug = (payment.gateway_response or {}).get("plan_slug")
    plan = await session.scalar(select(SubscriptionPlan).where(SubscriptionPlan.slug == slug)) if slug else None
    name = plan.name if plan is not None else None
    if payment.status in ("refunded", "partially_refunded"):
        return ReturnStatus(ReturnState.REFUNDED, name)
    if payment.status in SUCCEEDED:
        return ReturnStatus(ReturnState.PAID, name)
    if payment.status == "failed":
        return ReturnStatus(ReturnState.FAILED, name)
    if gateway_says == "cancelled":
        return ReturnStatus(ReturnState.CANCELLED, name)
    return ReturnStatus(ReturnState.PENDING, name)


async def create_checkout(
    session: AsyncSession,
    deps: CoreDeps,
    user_id: uuid.UUID,
    plan_slug: str,
    currency: str,
    gateway: str | None = None,
) -> CheckoutLink:
    """Create a pending payment and the gateway's payment page for it; return the link to send."""
    currency = currency.upper()
    if not payments_enabled(deps):
        raise PaymentsOff(deps.settings.billing_contact)
    plan = await session.scalar(select(SubscriptionPlan).where(SubscriptionPlan.slug == plan_slug))
    price = _price(plan, currency) if plan is not None and plan.is_active is not False else None
    if plan is None or price is None:
        raise NotFound("I don't know that plan. Send /plans to see them.", detail=f"plan {plan_slug} {currency}")
    client = choose_gateway(deps, currency, gateway, plan_slug=plan.slug)
    user = await session.get_one(User, user_id)
    payment = Payment(
        user_id=user_id,
        amount=price,
        currency=currency,
        status="pending",
        payment_gateway=client.name,
        gateway_response={"plan_slug": plan.slug},
    )
    session.add(payment)
    await session.flush()
    request = CheckoutRequest(
        payment_id=payment.id,
        user_id=user_id,
        plan_slug=plan.slug,
        description=f"Recast {plan.name} ({plan.billing_period})",
        amount=price,
        currency=currency,
        customer_name=user.full_name,
        customer_email=user.email if "@users.recast.invalid" not in user.email else None,
        customer_phone=user.phone,
        return_url=return_url(deps.settings.public_base_url, payment.id),
        cancel_url=return_url(deps.settings.public_base_url, payment.id, cancelled=True),
    )
    try:
        checkout = await client.create_checkout(request)
    except GatewayError as exc:
        raise CheckoutFailed(detail=str(exc)) from exc
    payment.gateway_order_id = checkout.order_ref
    await audit.record(
        session=session,
        action="checkout_created",
        user_id=user_id,
        resource_type="payment",
        resource_id=payment.id,
        metadata={"plan": plan.slug, "gateway": client.name, "amount": str(price), "currency": currency},
    )
    return CheckoutLink(checkout.url, client.name, payment.id)


async def usage_summary(session: AsyncSession, user_id: uuid.UUID) -> UsageSummary:
    """The creator's plan, status and this period's usage against its limits."""
    sub = await billing_usage.live_subscription(session=session, user_id=user_id)
    plan = await session.get(SubscriptionPlan, sub.plan_id) if sub is not None and sub.plan_id else None
    usage = await billing_usage.current_usage(session=session, user_id=user_id)
    return UsageSummary(
        plan_name=plan.name if plan else None,
        plan_slug=plan.slug if plan else None,
        status=sub.status if sub else None,
        period_end=sub.current_period_end if sub else None,
        trial_end=sub.trial_end if sub else None,
        cancel_at_period_end=bool(sub and sub.cancel_at_period_end),
        uploads_used=usage.content_uploads or 0,
        upload_limit=usage.upload_limit,
        credits_used=usage.ai_credits_used or 0,
        credit_limit=usage.credit_limit,
        storage_used_bytes=usage.storage_used_bytes or 0,
        storage_limit_bytes=usage.storage_limit_bytes,
    )


# ---------------------------------------------------------------- lifecycle
