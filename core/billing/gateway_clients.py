"""The real payment gateway clients (Razorpay, Stripe, Cashfree, PayPal) and which are configured.

Every client takes its API base URL so tests (and sandboxes) point it at another server. Razorpay and
Stripe go through their official SDKs; Cashfree and PayPal through their REST APIs over aiohttp.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from typing import Any

import aiohttp
import razorpay
import razorpay.errors
import stripe

from core.billing.gateways import CheckoutRequest, CheckoutSession, GatewayClient, GatewayError, minor_units, notes
from core.common import redaction
from core.config import Settings

log = logging.getLogger(__name__)
_TIMEOUT = aiohttp.ClientTimeout(total=15)


class RazorpayGateway:
    """Payment Links through the official `razorpay` SDK (synchronous, so run in a thread).

    A payment made on a link carries no notes; its order (which Razorpay gives the link's notes) and
    the link itself do, so `fetch_order` / `fetch_payment_link` let processing find the checkout."""

    name = "razorpay"

    def __init__(self, key_id: str, key_secret: str, *, base_url: str = "https://api.razorpay.com") -> None:
        self.base_url = base_url.rstrip("/")
        self._client = razorpay.Client(auth=(key_id, key_secret), base_url=self.base_url)

    async def _fetch(self, fetch: Any, entity_id: str) -> dict[str, Any] | None:
        try:
            found = await asyncio.to_thread(fetch, entity_id, {}, timeout=_TIMEOUT.total)
        except razorpay.errors.BadRequestError as exc:  # Razorpay's answer for an id it does not know
            log.warning("razorpay has no %s: %s", entity_id, exc)
            return None
        except Exception as exc:  # its ServerError/GatewayError and requests' errors: try again later
            raise GatewayError(f"razorpay fetch {entity_id}: {exc}", transient=True) from exc
        return found if isinstance(found, dict) else None

    async def fetch_order(self, order_id: str) -> dict[str, Any] | None:
        """`GET /v1/orders/{id}`; None if Razorpay has no such order. GatewayError if unreachable."""
        return await self._fetch(self._client.order.fetch, order_id)

    async def fetch_payment_link(self, link_id: str) -> dict[str, Any] | None:
        """`GET /v1/payment_links/{id}`; None if Razorpay has no such link. GatewayError if unreachable."""
        return await self._fetch(self._client.payment_link.fetch, link_id)

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        body: dict[str, Any] = {
            "amount": minor_units(request.amount),
            "currency": request.currency,
            "description": request.description,
            "reference_id": str(request.payment_id),
            "customer": {
                k: v
                for k, v in {
                    "name": request.customer_name,
                    "email": request.customer_email,
                    "contact": request.customer_phone,
                }.items()
                if v
            },
            "notes": notes(request),
            "callback_url": request.return_url,
            "callback_method": "get",
        }
        try:
            link = await asyncio.to_thread(self._client.payment_link.create, body)
        except Exception as exc:  # the SDK raises its own error classes and requests' errors
            raise GatewayError(f"razorpay: {exc}") from exc
        return CheckoutSession(self.name, str(link["short_url"]), str(link["id"]))

    async def cancel_subscription(self, subscription_id: str) -> None:
        """Stop renewals at the end of the paid cycle (`cancel_at_cycle_end`); Razorpay cannot undo it."""
        try:
            await asyncio.to_thread(self._client.subscription.cancel, subscription_id, {"cancel_at_cycle_end": 1})
        except Exception as exc:
            raise GatewayError(f"razorpay: {exc}") from exc


class StripeGateway:
    """Checkout Sessions through the official `stripe` SDK's async client."""

    name = "stripe"

    def __init__(self, api_key: str, *, api_base: str = "https://api.stripe.com") -> None:
        self.api_base = api_base.rstrip("/")
        base: Any = {"api": self.api_base}
        self._client = stripe.StripeClient(
            api_key, base_addresses=base, http_client=stripe.HTTPXClient(), max_network_retries=0
        )

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        params: Any = {
            "mode": "payment",
            "client_reference_id": str(request.payment_id),
            "metadata": notes(request),
            "payment_intent_data": {"metadata": notes(request)},
            "success_url": request.return_url,
            "cancel_url": request.abandon_url,
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": request.currency.lower(),
                        "unit_amount": minor_units(request.amount),
                        "product_data": {"name": request.description},
                    },
                }
            ],
        }
        if request.customer_email:
            params["customer_email"] = request.customer_email
        try:
            session = await self._client.v1.checkout.sessions.create_async(params=params)
        except stripe.StripeError as exc:
            raise GatewayError(f"stripe: {exc}") from exc
        if not session.url:
            raise GatewayError("stripe: checkout session without url")
        return CheckoutSession(self.name, session.url, session.id)

    async def cancel_subscription(self, subscription_id: str) -> None:
        await self._set_cancel_at_period_end(subscription_id, True)

    async def resume_subscription(self, subscription_id: str) -> None:
        await self._set_cancel_at_period_end(subscription_id, False)

    async def _set_cancel_at_period_end(self, subscription_id: str, value: bool) -> None:
        try:
            await self._client.v1.subscriptions.update_async(subscription_id, params={"cancel_at_period_end": value})
        except stripe.StripeError as exc:
            raise GatewayError(f"stripe: {exc}") from exc


class CashfreeGateway:
    """Payment Links over Cashfree's PG REST API (`POST /pg/links`, API version 2023-08-01)."""

    name = "cashfree"
    api_version = "2023-08-01"

    def __init__(self, app_id: str, secret_key: str, *, base_url: str = "https://api.cashfree.com") -> None:
        self._app_id, self._secret, self.base_url = app_id, secret_key, base_url.rstrip("/")

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        link_id = "rc_" + request.payment_id.hex
        body = {
            "link_id": link_id,
            "link_amount": float(request.amount),
            "link_currency": request.currency,
            "link_purpose": request.description,
            "customer_details": {
                "customer_name": request.customer_name,
                "customer_phone": request.customer_phone or "9999999999",
                **({"customer_email": request.customer_email} if request.customer_email else {}),
            },
            "link_notes": notes(request),
            "link_meta": {"return_url": request.return_url},
        }
        headers = {
            "x-client-id": self._app_id,
            "x-client-secret": self._secret,
            "x-api-version": self.api_version,
            "x-idempotency-key": link_id,
        }
        async with aiohttp.ClientSession(timeout=_TIMEOUT) as http:
            try:
                async with http.post(f"{self.base_url}/pg/links", json=body, headers=headers) as resp:
                    data = await resp.json(content_type=None)
                    if resp.status >= 300:
                        raise GatewayError(f"cashfree: {resp.status} {data}")
            except aiohttp.ClientError as exc:
                raise GatewayError(f"cashfree: {exc}") from exc
        return CheckoutSession(self.name, str(data["link_url"]), str(data.get("link_id") or link_id))


class PayPalRest:
    """PayPal REST with an OAuth client-credentials token cached until shortly before it expires."""

    def __init__(self, client_id: str, client_secret: str, *, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        self._auth_header = {"Authorization": f"Basic {basic}"}
        self._token: tuple[str, float] | None = None
        self._lock = asyncio.Lock()

    async def access_token(self) -> str:
        async with self._lock:
            if self._token and self._token[1] > time.monotonic():
                return self._token[0]
            async with (
                aiohttp.ClientSession(timeout=_TIMEOUT) as http,
                http.post(
                    f"{self.base_url}/v1/oauth2/token",
                    data={"grant_type": "client_credentials"},
                    headers=self._auth_header,
                ) as resp,
            ):
                data = await resp.json(content_type=None)
                if resp.status >= 300:
                    raise GatewayError(f"paypal oauth: {resp.status}")
            expires = time.monotonic() + int(data.get("expires_in", 300)) - 60
            self._token = (str(data["access_token"]), expires)
            redaction.register(self._token[0])
            return self._token[0]

    async def post(self, path: str, body: dict[str, Any], *, allow_empty: bool = False) -> dict[str, Any]:
        """POST JSON; `allow_empty` for endpoints that answer 204 No Content."""
        token = await self.access_token()
        try:
            async with (
                aiohttp.ClientSession(timeout=_TIMEOUT) as http,
                http.post(f"{self.base_url}{path}", json=body, headers={"Authorization": f"Bearer {token}"}) as resp,
            ):
                data = await resp.json(content_type=None)
                if resp.status >= 300:
                    raise GatewayError(f"paypal {path}: {resp.status} {data}")
        except aiohttp.ClientError as exc:
            raise GatewayError(f"paypal {path}: {exc}") from exc
        if data is None and allow_empty:
            return {}
        if not isinstance(data, dict):
            raise GatewayError(f"paypal {path}: unexpected answer")
        return data


class PayPalGateway:
    """Orders v2 (`intent: CAPTURE`); the buyer approves at the `payer-action`/`approve` link."""

    name = "paypal"

    def __init__(self, rest: PayPalRest) -> None:
        self.rest = rest

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        order = await self.rest.post(
            "/v2/checkout/orders",
            {
                "intent": "CAPTURE",
                "purchase_units": [
                    {
                        "reference_id": request.plan_slug,
                        "custom_id": str(request.payment_id),
                        "description": request.description[:127],
                        "amount": {"currency_code": request.currency, "value": f"{request.amount:.2f}"},
                    }
                ],
                "payment_source": {
                    "paypal": {
                        "experience_context": {
                            "return_url": request.return_url,
                            "cancel_url": request.abandon_url,
                            "user_action": "PAY_NOW",
                        }
                    }
                },
            },
        )
        links = {link.get("rel"): link.get("href") for link in order.get("links", [])}
        url = links.get("payer-action") or links.get("approve")
        if not url:
            raise GatewayError("paypal: order without an approval link")
        return CheckoutSession(self.name, str(url), str(order["id"]))

    async def capture(self, order_id: str) -> dict[str, Any]:
        return await self.rest.post(f"/v2/checkout/orders/{order_id}/capture", {})

    async def cancel_subscription(self, subscription_id: str) -> None:
        """No further payments; the paid period stays. PayPal cannot undo a cancellation."""
        await self.rest.post(
            f"/v1/billing/subscriptions/{subscription_id}/cancel",
            {"reason": "Canceled by the creator in Recast"},
            allow_empty=True,
        )


def configured_gateways(settings: Settings) -> list[str]:
    """Names of the gateways whose credentials are set (what `build_gateways` builds), without building them."""
    configured = {
        "razorpay": bool(settings.razorpay_key_id and settings.razorpay_key_secret),
        "cashfree": bool(settings.cashfree_app_id and settings.cashfree_secret_key),
        "stripe": bool(settings.stripe_api_key),
        "paypal": bool(settings.paypal_client_id and settings.paypal_client_secret),
    }
    return [name for name, ok in configured.items() if ok]


def billing_warning(settings: Settings) -> str | None:
    """The operator's warning when this server takes no payments, or None when some gateway is set."""
    if configured_gateways(settings):
        return None
    contact = (
        f"to contact {settings.billing_contact} (BILLING_CONTACT)"
        if settings.billing_contact
        else "to contact the person who runs this server — set BILLING_CONTACT to say whom"
    )
    return (
        "Billing is off: no payment gateway is configured (Razorpay, Cashfree, Stripe or PayPal credentials). "
        f"Creators keep their plan's limits; /upgrade tells them this server takes no payments and {contact}."
    )


def build_gateways(settings: Settings) -> dict[str, GatewayClient]:
    """Every gateway whose credentials are configured, keyed by name (for `deps.providers.gateways`).

    Each client talks to its `*_API_BASE` setting (production by default)."""
    out: dict[str, GatewayClient] = {}
    if settings.razorpay_key_id and settings.razorpay_key_secret:
        out["razorpay"] = RazorpayGateway(
            settings.razorpay_key_id,
            settings.razorpay_key_secret.get_secret_value(),
            base_url=settings.razorpay_api_base,
        )
    if settings.cashfree_app_id and settings.cashfree_secret_key:
        out["cashfree"] = CashfreeGateway(
            settings.cashfree_app_id,
            settings.cashfree_secret_key.get_secret_value(),
            base_url=settings.cashfree_api_base,
        )
    if settings.stripe_api_key:
        out["stripe"] = StripeGateway(settings.stripe_api_key.get_secret_value(), api_base=settings.stripe_api_base)
    if settings.paypal_client_id and settings.paypal_client_secret:
        out["paypal"] = PayPalGateway(
            PayPalRest(
                settings.paypal_client_id,
                settings.paypal_client_secret.get_secret_value(),
                base_url=settings.paypal_api_base,
            )
        )
    return out
