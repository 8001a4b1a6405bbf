"""The aiohttp application: health, payment gateway webhooks, and whatever else entry points mount.

Gateway requests: verify on the raw bytes → INSERT into `gateway_events` (unique sender + event id,
one autocommitted statement, see `webhooks.inbox`) → enqueue processing only for a newly stored event →
answer 200. Nothing is processed in the request, so the answer comes well inside the senders' 5-second
budgets whatever processing costs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web
from sqlalchemy import text
from taskiq import AsyncBroker

from core.billing.gateways import PayPalRest
from core.deps import CoreDeps, Enqueue
from webhooks import billing_return
from webhooks.enqueue import PipelinedEnqueue
from webhooks.gateways.base import BadSignature, MalformedBody, Verifier, split_secrets
from webhooks.gateways.cashfree import CashfreeVerifier
from webhooks.gateways.paypal import PAYPAL_CERT_HOSTS, PayPalVerifier, origin
from webhooks.gateways.razorpay import RazorpayVerifier
from webhooks.gateways.stripe import StripeVerifier
from webhooks.inbox import GatewayInbox, asyncpg_dsn, engine_of

log = logging.getLogger(__name__)

DEPS_KEY = web.AppKey("deps", CoreDeps)
VERIFIERS_KEY = web.AppKey("gateway_verifiers", dict[str, Verifier])
INBOX_KEY = web.AppKey("gateway_inbox", GatewayInbox)
ENQUEUE_KEY: web.AppKey[Enqueue] = web.AppKey("gateway_enqueue")
PROCESS_TASK = "billing.process_gateway_event"

# Headers worth keeping with the raw body (enough to re-verify or debug; no cookies or auth).
_KEPT_HEADERS = frozenset({
    "content-type", "user-agent", "x-razorpay-signature", "x-razorpay-event-id", "stripe-signature",
    "x-webhook-signature", "x-webhook-timestamp", "x-webhook-version", "x-idempotency-key",
    "paypal-transmission-id", "paypal-transmission-time", "paypal-transmission-sig", "paypal-cert-url",
    "paypal-auth-algo",
})


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def build_verifiers(deps: CoreDeps) -> dict[str, Verifier]:
    s = deps.settings
    rest = None
    if s.paypal_client_id and s.paypal_client_secret:
        rest = PayPalRest(
            s.paypal_client_id, s.paypal_client_secret.get_secret_value(), base_url=s.paypal_api_base
        )
    # A PayPal API base pointed somewhere else (a sandbox proxy, a local test server) is trusted for
    # certificates too: the operator chose it; a request's own cert URL never widens the list.
    extra = frozenset({origin(s.paypal_api_base)})
    verifiers: dict[str, Verifier] = {
        "razorpay": RazorpayVerifier(split_secrets(_secret(s.razorpay_webhook_secret))),
        "stripe": StripeVerifier(split_secrets(_secret(s.stripe_webhook_secret))),
        "cashfree": CashfreeVerifier(split_secrets(_secret(s.cashfree_secret_key))),
        "paypal": PayPalVerifier(webhook_id=s.paypal_webhook_id, rest=rest,
                                 extra_cert_origins=extra - PAYPAL_CERT_HOSTS),
    }
    verifiers.update(deps.providers.get("webhook_verifiers", {}))
    return verifiers


def _kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items() if k.lower() in _KEPT_HEADERS}


def gateway_handler(sender: str) -> Callable[[web.Request], Any]:
    async def handle(request: web.Request) -> web.StreamResponse:
        verifier = request.app[VERIFIERS_KEY][sender]
        body = await request.read()  # raises 413 past client_max_size
        try:
            event = await verifier.verify(request.headers, body)
        except BadSignature as exc:
            # Why no detail: the reason helps an attacker more than it helps PayPal or Stripe.
            log.info("%s webhook refused: %s", sender, exc)
            return web.Response(status=400)
        except MalformedBody as exc:
            log.warning("%s webhook with a malformed body (%d bytes): %s", sender, len(body), exc)
            return web.Response(status=400)
        event_id = await request.app[INBOX_KEY].store(event, body, _kept_headers(request.headers))
        if event_id is not None:
            try:
                await request.app[ENQUEUE_KEY](PROCESS_TASK, event_id=event_id)
            except Exception:
                # Stored with status 'received': billing.requeue_stale_events picks it up later.
                log.exception("could not enqueue %s event %s", sender, event_id)
        return web.json_response({"ok": True, "duplicate": event_id is None})

    return handle


async def healthz(request: web.Request) -> web.Response:
    deps = request.app[DEPS_KEY]
    checks: dict[str, str] = {}
    try:
        async with deps.sessionmaker() as session:
            await session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        await deps.redis.ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return web.json_response({"ok": healthy, **checks}, status=200 if healthy else 503)


def make_web_app(
    deps: CoreDeps,
    *,
    extra_routes: Callable[[web.Application], None] | None = None,
    broker: AsyncBroker | None = None,
    bot_username: str | None = None,
) -> web.Application:
    """The web process's application; Telegram and Slack adapters mount theirs through `extra_routes`.

    With the task `broker`, gateway events are enqueued through `PipelinedEnqueue` (the hot path's
    batched XADDs); without it, through `deps.enqueue`. `bot_username` makes the checkout return page
    link back to the Telegram chat."""
    app = web.Application(client_max_size=deps.settings.webhook_max_body_bytes)
    app[DEPS_KEY] = deps
    app[VERIFIERS_KEY] = build_verifiers(deps)
    inbox = GatewayInbox(asyncpg_dsn(engine_of(deps.sessionmaker)))
    app[INBOX_KEY] = inbox
    pipelined = PipelinedEnqueue(broker) if broker is not None else None
    app[ENQUEUE_KEY] = pipelined or deps.enqueue

    async def start_inbox(_: web.Application) -> None:
        await inbox.start()

    async def close_inbox(_: web.Application) -> None:
        await inbox.close()
        if pipelined is not None:
            await pipelined.close()

    app.on_startup.append(start_inbox)
    app.on_cleanup.append(close_inbox)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/billing/return", billing_return.handler(deps, bot_username))
    for sender in ("razorpay", "stripe", "cashfree", "paypal"):
        app.router.add_post(f"/webhooks/{sender}", gateway_handler(sender))
    if extra_routes is not None:
        extra_routes(app)
    return app
