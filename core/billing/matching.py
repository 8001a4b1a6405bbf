"""Billing, which Recast rows a gateway event is about: its payment (by our id, the gateway's payment
or order/link id), the Razorpay checkout a link payment pays, and the user whose lock it runs under."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.billing.facts import Facts, PaymentFact
from core.billing.gateway_clients import RazorpayGateway
from core.billing.lifecycle import (
    SUB_COLUMNS,
)
from core.billing.models import Payment, Subscription
from core.billing.normalizers.razorpay import razorpay_checkout, razorpay_link_id
from core.deps import CoreDeps

log = logging.getLogger(__name__)


async def find_payment(session: AsyncSession, fact: PaymentFact, *, lock: bool = True) -> Payment | None:
    conditions = []
    if fact.recast_payment_id:
        conditions.append(Payment.id == fact.recast_payment_id)
    if fact.payment_ref:
        conditions.append((Payment.payment_gateway == fact.gateway) & (Payment.gateway_payment_id == fact.payment_ref))
    if fact.order_refs:
        conditions.append((Payment.payment_gateway == fact.gateway) & Payment.gateway_order_id.in_(fact.order_refs))
    for condition in conditions:
        stmt = select(Payment).where(condition).limit(1)
        found = await session.scalar(stmt.with_for_update() if lock else stmt)
        if found is not None:
            return found
    return None


async def resolve_razorpay_checkout(session: AsyncSession, deps: CoreDeps, facts: Facts) -> None:
    """Give a Razorpay payment fact the Recast checkout it pays, asking Razorpay when the event lacks it.

    Why: a payment made on a payment link has no notes, so payment.captured (and payment.failed,
    refund.*) name only the payment and its `order_id`; the checkout's notes live on the order and the
    link. order.paid and payment_link.paid carry those entities; for the others we fetch the order,
    then (still unresolved) the link the payment's description names. Not when the payment is already
    known here (a later event of a credited checkout) or belongs to a subscription."""
    fact = facts.payment
    if fact is None or fact.gateway != "razorpay" or facts.subscription is not None:
        return
    if fact.recast_payment_id or await find_payment(session, fact, lock=False) is not None:
        return
    client = deps.providers.gateways.get("razorpay")
    if not isinstance(client, RazorpayGateway):
        return
    order_id = fact.raw.get("order_id")
    if isinstance(order_id, str) and order_id and (order := await client.fetch_order(order_id)):
        razorpay_checkout(fact, order)
    if fact.recast_payment_id is None and (link_id := razorpay_link_id(fact.raw)):
        link = await client.fetch_payment_link(link_id)
        # Only the link this payment's order belongs to (when Razorpay says which).
        if link and link.get("order_id") in (None, "", order_id):
            razorpay_checkout(fact, link)


async def find_user(session: AsyncSession, facts: Facts) -> uuid.UUID | None:
    if facts.payment is not None:
        if facts.payment.user_id:
            return facts.payment.user_id
        # No row lock here: the per-user advisory lock comes first, row locks after it.
        payment = await find_payment(session, facts.payment, lock=False)
        if payment is not None and payment.user_id:
            return payment.user_id
    if facts.subscription is not None:
        if facts.subscription.user_id:
            return facts.subscription.user_id
        column = SUB_COLUMNS.get(facts.subscription.gateway)
        if column:
            return await session.scalar(
                select(Subscription.user_id).where(getattr(Subscription, column) == facts.subscription.subscription_ref)
            )
    return None
