"""Local HTTP servers speaking the Razorpay, Stripe, Cashfree and PayPal APIs the checkout uses."""

from __future__ import annotations

import secrets
import string
import time
from typing import Any

from aiohttp import web


def razorpay_id(prefix: str) -> str:
    return f"{prefix}_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(14))


def razorpay_error(status: int, code: str, description: str) -> web.Response:
    return web.json_response(
        {"error": {"code": code, "description": description, "source": "NA", "step": "NA", "reason": "NA"}},
        status=status,
    )


class FakeGatewayApis:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        # Razorpay's side of a payment-link checkout, as its API returns the entities.
        self.razorpay_links: dict[str, dict[str, Any]] = {}
        self.razorpay_orders: dict[str, dict[str, Any]] = {}
        self.razorpay_down = False  # answer fetches with Razorpay's SERVER_ERROR
        self.app = web.Application()
        r = self.app.router
        r.add_post("/v1/payment_links", self.razorpay_link)
        r.add_get("/v1/payment_links/{id}", self.razorpay_fetch_link)
        r.add_get("/v1/orders/{id}", self.razorpay_fetch_order)
        r.add_post("/v1/checkout/sessions", self.stripe_session)
        r.add_post("/pg/links", self.cashfree_link)
        r.add_post("/v1/oauth2/token", self.paypal_token)
        r.add_post("/v2/checkout/orders", self.paypal_order)
        r.add_post("/v2/checkout/orders/{id}/capture", self.paypal_capture)
        r.add_post("/v1/subscriptions/{id}/cancel", self.razorpay_cancel)
        r.add_post("/v1/subscriptions/{id}", self.stripe_subscription_update)
        r.add_post("/v1/billing/subscriptions/{id}/cancel", self.paypal_subscription_cancel)

    async def razorpay_cancel(self, request: web.Request) -> web.Response:
        await self._record("razorpay-cancel", request)
        return web.json_response({"id": request.match_info["id"], "entity": "subscription", "status": "active"})

    async def stripe_subscription_update(self, request: web.Request) -> web.Response:
        body = await self._record("stripe-subscription", request)
        if request.headers.get("Authorization") != "Bearer sk_test_local":
            return web.json_response({"error": {"type": "invalid_request_error", "message": "bad key"}}, status=401)
        return web.json_response(
            {
                "id": request.match_info["id"],
                "object": "subscription",
                "status": "active",
                "cancel_at_period_end": body.get("cancel_at_period_end") == "true",
            }
        )

    async def paypal_subscription_cancel(self, request: web.Request) -> web.Response:
        await self._record("paypal-cancel", request)
        if request.headers.get("Authorization") != "Bearer A21-local":
            return web.json_response({"name": "AUTHENTICATION_FAILURE"}, status=401)
        return web.Response(status=204)

    async def _record(self, name: str, request: web.Request) -> Any:
        if request.content_type == "application/json":
            body: Any = await request.json()
        else:
            body = dict(await request.post())
        self.requests.append((name, request.path, dict(request.headers), body))
        return body

    async def razorpay_link(self, request: web.Request) -> web.Response:
        body = await self._record("razorpay", request)
        if not request.headers.get("Authorization", "").startswith("Basic "):
            return web.json_response({"error": {"code": "BAD_REQUEST_ERROR"}}, status=401)
        link_id = razorpay_id("plink")
        link = {
            "id": link_id,
            "short_url": f"https://rzp.io/i/{link_id[6:16]}",
            "amount": body["amount"],
            "amount_paid": 0,
            "currency": body["currency"],
            "description": body.get("description"),
            "reference_id": body.get("reference_id"),
            "status": "created",
            "notes": body.get("notes", {}),
            "order_id": "",
            "payments": None,
            "created_at": int(time.time()),
        }
        self.razorpay_links[link_id] = link
        return web.json_response(link)

    async def razorpay_fetch_link(self, request: web.Request) -> web.Response:
        await self._record("razorpay-fetch-link", request)
        if not request.headers.get("Authorization", "").startswith("Basic "):
            return razorpay_error(401, "BAD_REQUEST_ERROR", "Authentication failed")
        if self.razorpay_down:
            return razorpay_error(500, "SERVER_ERROR", "We are facing some trouble completing your request")
        link = self.razorpay_links.get(request.match_info["id"])
        if link is None:
            return razorpay_error(400, "BAD_REQUEST_ERROR", "The id provided does not exist")
        return web.json_response(link)

    async def razorpay_fetch_order(self, request: web.Request) -> web.Response:
        await self._record("razorpay-fetch-order", request)
        if not request.headers.get("Authorization", "").startswith("Basic "):
            return razorpay_error(401, "BAD_REQUEST_ERROR", "Authentication failed")
        if self.razorpay_down:
            return razorpay_error(500, "SERVER_ERROR", "We are facing some trouble completing your request")
        order = self.razorpay_orders.get(request.match_info["id"])
        if order is None:
            return razorpay_error(400, "BAD_REQUEST_ERROR", "The id provided does not exist")
        return web.json_response(order)

    def razorpay_pay(
        self, link_id: str, *, status: str = "captured", order_notes: bool = True
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """The customer pays the link: Razorpay's (link, order, payment) entities afterwards.

        As Razorpay does it: the link gets an order, which carries the link's notes (`order_notes=False`
        models an order without them); the payment is on that order, has no notes of its own (`[]`)
        and is described `#<link id without plink_>`. Another attempt on the same link reuses its order.
        """
        link = self.razorpay_links[link_id]
        order_id = link["order_id"] or razorpay_id("order")
        captured = status == "captured"
        order = self.razorpay_orders.setdefault(
            order_id,
            {
                "id": order_id,
                "entity": "order",
                "amount": link["amount"],
                "amount_paid": 0,
                "amount_due": link["amount"],
                "currency": link["currency"],
                "receipt": None,
                "offer_id": None,
                "status": "attempted",
                "attempts": 0,
                "notes": dict(link["notes"]) if order_notes else [],
                "created_at": int(time.time()),
            },
        )
        order["attempts"] += 1
        payment = {
            "id": razorpay_id("pay"),
            "entity": "payment",
            "amount": link["amount"],
            "currency": link["currency"],
            "status": status,
            "order_id": order_id,
            "invoice_id": None,
            "international": False,
            "method": "upi",
            "amount_refunded": 0,
            "refund_status": None,
            "captured": captured,
            "description": "#" + link_id.removeprefix("plink_"),
            "notes": [],
            "error_description": "Payment was declined by the bank" if status == "failed" else None,
            "created_at": int(time.time()),
        }
        if captured:
            order.update(status="paid", amount_paid=link["amount"], amount_due=0)
            link.update(
                status="paid",
                amount_paid=link["amount"],
                order_id=order_id,
                payments=[{"payment_id": payment["id"], "amount": link["amount"], "status": "captured"}],
            )
        else:
            link["order_id"] = order_id
        return dict(link), dict(order), payment

    async def stripe_session(self, request: web.Request) -> web.Response:
        await self._record("stripe", request)
        if request.headers.get("Authorization") != "Bearer sk_test_local":
            return web.json_response({"error": {"type": "invalid_request_error", "message": "bad key"}}, status=401)
        return web.json_response(
            {
                "id": "cs_test_abc",
                "object": "checkout.session",
                "mode": "payment",
                "url": "https://checkout.stripe.com/c/pay/cs_test_abc",
                "livemode": False,
            }
        )

    async def cashfree_link(self, request: web.Request) -> web.Response:
        body = await self._record("cashfree", request)
        if request.headers.get("x-client-secret") != "cf_secret":
            return web.json_response({"message": "authentication Failed", "code": "request_failed"}, status=401)
        return web.json_response(
            {
                "cf_link_id": 1234,
                "link_id": body["link_id"],
                "link_status": "ACTIVE",
                "link_url": f"https://payments.cashfree.com/links/{body['link_id']}",
            }
        )

    async def paypal_token(self, request: web.Request) -> web.Response:
        await self._record("paypal-token", request)
        return web.json_response({"access_token": "A21-local", "token_type": "Bearer", "expires_in": 32400})

    async def paypal_order(self, request: web.Request) -> web.Response:
        await self._record("paypal", request)
        if request.headers.get("Authorization") != "Bearer A21-local":
            return web.json_response({"name": "AUTHENTICATION_FAILURE"}, status=401)
        return web.json_response(
            {
                "id": "5O190127TN364715T",
                "status": "PAYER_ACTION_REQUIRED",
                "links": [
                    {"rel": "self", "href": "https://api-m.paypal.com/v2/checkout/orders/5O190127TN364715T"},
                    {"rel": "payer-action", "href": "https://www.paypal.com/checkoutnow?token=5O190127TN364715T"},
                ],
            }
        )

    async def paypal_capture(self, request: web.Request) -> web.Response:
        await self._record("paypal-capture", request)
        return web.json_response({"id": request.match_info["id"], "status": "COMPLETED"}, status=201)
