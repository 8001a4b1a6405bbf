"""Local HTTP servers speaking the Razorpay, Stripe, Cashfree and PayPal APIs the checkout uses."""

from __future__ import annotations

from typing import Any

from aiohttp import web


class FakeGatewayApis:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.app = web.Application()
        r = self.app.router
        r.add_post("/v1/payment_links", self.razorpay_link)
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
        return web.json_response({
            "id": request.match_info["id"], "object": "subscription", "status": "active",
            "cancel_at_period_end": body.get("cancel_at_period_end") == "true",
        })  # fmt: skip

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
        return web.json_response(
            {
                "id": "plink_Test123",
                "short_url": "https://rzp.io/i/Test123",
                "amount": body["amount"],
                "currency": body["currency"],
                "status": "created",
                "notes": body.get("notes", {}),
            }
        )

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
