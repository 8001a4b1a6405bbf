"""`/billing/return`: the page a payment gateway sends the creator back to after its checkout.

It says only what is true: "paid" once the stored payment has succeeded (the gateway's webhook was
processed), "cancelled" when the creator left the checkout, otherwise that the payment is being
confirmed and the confirmation comes in the chat. Then it sends the creator back to the chat.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web

from core.billing import checkout as billing
from core.db.session import as_maintenance
from core.deps import CoreDeps
from webhooks.pages import page

# What each gateway puts in the return URL when the creator abandoned or completed the checkout.
_CANCELLED = {"cancelled", "canceled", "expired", "failed"}


def gateway_says(query: dict[str, str]) -> str | None:
    """ "cancelled", "paid" or None from the return URL's query (ours and the gateways' own parameters)."""
    if query.get("result") == "cancelled":
        return "cancelled"
    razorpay = query.get("razorpay_payment_link_status", "").lower()
    if razorpay in _CANCELLED:
        return "cancelled"
    if razorpay == "paid" or query.get("PayerID"):
        return "paid"
    return None


MESSAGES = {
    billing.ReturnState.PAID: (
        "Payment received ✅",
        "Your {plan} plan is active. Your invoice and the details are in the chat.",
    ),
    billing.ReturnState.PENDING: (
        "Confirming your payment…",
        "If you completed the payment, the confirmation arrives in the chat within a few minutes — "
        "nothing else to do here. If you didn't, nothing was charged.",
    ),
    billing.ReturnState.CANCELLED: (
        "Payment cancelled",
        "Nothing was charged. You can pick a plan again with /upgrade in the chat.",
    ),
    billing.ReturnState.FAILED: (
        "The payment didn't go through",
        "Nothing was charged. Try /upgrade again in the chat.",
    ),
    billing.ReturnState.REFUNDED: (
        "This payment was refunded",
        "The money went back to you. The details are in the chat.",
    ),
    billing.ReturnState.UNKNOWN: (
        "We couldn't find this payment",
        "If you paid, the confirmation arrives in the chat. The link may be incomplete.",
    ),
}


def render(state: billing.ReturnState, plan_name: str | None, bot_username: str | None) -> str:
    title, body = MESSAGES[state]
    body = body.format(plan=plan_name or "new")
    return page(title, body, bot_username)


def handler(deps: CoreDeps, bot_username: str | None) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def billing_return(request: web.Request) -> web.Response:
        query = dict(request.query)
        try:
            payment_id: uuid.UUID | None = uuid.UUID(query.get("payment", ""))
        except ValueError:
            payment_id = None
        # Pre-identity: the payment's random id in the return link is what names it, so it is read as
        # maintenance (on an RLS-bound login a session acting for no one would find no payment).
        with as_maintenance():
            async with deps.sessionmaker() as session:
                status = await billing.payment_return_status(session, payment_id, gateway_says=gateway_says(query))
        return web.Response(
            text=render(status.state, status.plan_name, bot_username),
            content_type="text/html",
            status=404 if status.state == billing.ReturnState.UNKNOWN else 200,
            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
        )

    return billing_return
