"""The aiohttp application: health, payment gateway webhooks, and whatever else entry points mount.

Gateway requests: verify on the raw bytes → INSERT into `gateway_events` (unique sender + event id,
one autocommitted statement, see `core.inbox.store`) → enqueue processing only for a newly stored event →
answer 200. Nothing is processed in the request, so the answer comes well inside the senders' 5-second
budgets whatever processing costs.

What a request contains never gets a 5xx: not provably from the gateway → 400, nothing written;
authentic but no event we can process (a NUL, a 5,000-digit number, 20,000 levels of nesting, a
non-UTF-8 header...) → stored as received with status `malformed` and the reason, a WARNING, 202, never
processed. Only our own storage being down answers 503, so the gateway retries.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from sqlalchemy import text

from core.billing.gateway_clients import PayPalRest
from core.deps import CoreDeps
from core.inbox.store import PLATFORM_TASK, PLATFORMS, PROCESS_TASK, GatewayInbox, asyncpg_dsn, engine_of
from core.limits.window import RateLimiter
from core.system.metrics import CONTENT_TYPE
from core.work import submit
from webhooks import billing_return, calendar, media, oauth
from webhooks.audit import GATEWAYS, audit_middleware
from webhooks.gateways.base import (
    BadSignature,
    MalformedBody,
    VerifiedEvent,
    Verifier,
    body_digest,
    split_secrets,
)
from webhooks.gateways.cashfree import CashfreeVerifier
from webhooks.gateways.paypal import PAYPAL_CERT_HOSTS, PayPalVerifier, origin
from webhooks.gateways.razorpay import RazorpayVerifier
from webhooks.gateways.stripe import StripeVerifier
from webhooks.limits import limits_middleware
from webhooks.platforms import handshakes
from webhooks.platforms.linkedin import LinkedInVerifier
from webhooks.platforms.meta import MetaDeauthorizeVerifier, MetaVerifier
from webhooks.platforms.tiktok import TikTokVerifier
from webhooks.platforms.youtube import YouTubeVerifier

log = logging.getLogger(__name__)

DEPS_KEY = web.AppKey("deps", CoreDeps)
VERIFIERS_KEY = web.AppKey("gateway_verifiers", dict[str, Verifier])
INBOX_KEY = web.AppKey("gateway_inbox", GatewayInbox)

# Headers worth keeping with the raw body (enough to re-verify or debug; no cookies or auth).
_KEPT_HEADERS = frozenset(
    {
        "content-type",
        "user-agent",
        "x-razorpay-signature",
        "x-razorpay-event-id",
        "stripe-signature",
        "x-webhook-signature",
        "x-webhook-timestamp",
        "x-webhook-version",
        "x-idempotency-key",
        "paypal-transmission-id",
        "paypal-transmission-time",
        "paypal-transmission-sig",
        "paypal-cert-url",
        "paypal-auth-algo",
    }
)
_SECRET_HEADERS = frozenset({b"authorization", b"cookie", b"proxy-authorization"})
RawHeaders = tuple[tuple[bytes, bytes], ...]


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def build_verifiers(deps: CoreDeps) -> dict[str, Verifier]:
    s = deps.settings
    rest = None
    if s.paypal_client_id and s.paypal_client_secret:
        rest = PayPalRest(s.paypal_client_id, s.paypal_client_secret.get_secret_value(), base_url=s.paypal_api_base)
    # A PayPal API base pointed somewhere else (a sandbox proxy, a local test server) is trusted for
    # certificates too: the operator chose it; a request's own cert URL never widens the list.
    extra = frozenset({origin(s.paypal_api_base)})
    verifiers: dict[str, Verifier] = {
        "razorpay": RazorpayVerifier(split_secrets(_secret(s.razorpay_webhook_secret))),
        "stripe": StripeVerifier(split_secrets(_secret(s.stripe_webhook_secret))),
        "cashfree": CashfreeVerifier(split_secrets(_secret(s.cashfree_secret_key))),
        "paypal": PayPalVerifier(
            webhook_id=s.paypal_webhook_id, rest=rest, extra_cert_origins=extra - PAYPAL_CERT_HOSTS
        ),
        # Platforms: each refuses everything until its secret is configured.
        "meta": MetaVerifier(split_secrets(_secret(s.meta_app_secret))),
        "meta_deauthorize": MetaDeauthorizeVerifier(split_secrets(_secret(s.meta_app_secret))),
        "linkedin": LinkedInVerifier(split_secrets(_secret(s.linkedin_client_secret))),
        "tiktok": TikTokVerifier(split_secrets(_secret(s.tiktok_client_secret))),
        "youtube": YouTubeVerifier(split_secrets(_secret(s.youtube_websub_secret))),
    }
    return verifiers


def _kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items() if k.lower() in _KEPT_HEADERS}


def header_block(raw_headers: RawHeaders) -> bytes:
    """Every header line as received (bytes, any encoding), but credentials a proxy might add."""
    return b"".join(b"%s: %s\r\n" % (name, value) for name, value in raw_headers if name.lower() not in _SECRET_HEADERS)


def undecodable_header(raw_headers: RawHeaders) -> str | None:
    """The first header that is not UTF-8 (no gateway sends one), as a reason for the operator."""
    for name, value in raw_headers:
        if not (name.isascii() and value.isascii()):
            try:
                name.decode()
                value.decode()
            except UnicodeDecodeError as exc:
                return f"header {name.decode('latin-1')!r} is not UTF-8 (byte {exc.start})"
    return None


def gateway_handler(
    sender: str, *, verifier: str | None = None, process_kind: str = PROCESS_TASK
) -> Callable[[web.Request], Any]:
    """POST handler for one sender: verify on the raw body, store with its processing unit, then answer."""

    async def handle(request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        response = await _handle(request)
        deps = request.app[DEPS_KEY]
        if deps.metrics is not None:
            deps.metrics.webhook(sender, response.status, started)
        return response

    async def _handle(request: web.Request) -> web.StreamResponse:
        body = await request.read()  # raises 413 past client_max_size
        try:
            event = await request.app[VERIFIERS_KEY][verifier or sender].verify(request.headers, body)
        except BadSignature as exc:
            # Why no detail: the reason helps an attacker more than it helps PayPal or Stripe.
            log.info("%s webhook refused: %s", sender, exc)
            return web.Response(status=400)
        except MalformedBody as exc:  # a verifier's way of saying "authentic, but no event"
            event = VerifiedEvent(sender, body_digest(body), None, {}, str(exc) or "malformed body")
        except Exception:
            # Not proven authentic, so nothing is stored; not 5xx, a retry would fail the same way.
            log.exception("%s webhook: verification failed on this request", sender)
            return web.Response(status=400)
        if event.malformed is None and (problem := undecodable_header(request.raw_headers)):
            event = replace(event, malformed=problem)
        try:
            stored = await request.app[INBOX_KEY].store(
                sender=event.sender,
                event_id=event.event_id,
                event_type=event.event_type,
                malformed=event.malformed,
                body=body,
                headers=_kept_headers(request.headers),
                raw_headers=header_block(request.raw_headers),
                process_kind=process_kind,
            )
        except Exception:
            # Our storage is down: the gateway keeps the event and retries, nothing is lost.
            log.exception("could not store a %s webhook; answering 503", sender)
            return web.json_response({"ok": False, "error": "storage unavailable"}, status=503)
        if event.malformed is not None:
            # Stored (raw bytes) but never processed: 2xx, because a retry of the same bytes cannot
            # be better and Razorpay disables a webhook that keeps failing.
            log.warning(
                "%s webhook %s stored as malformed (%d bytes): %s",
                sender,
                stored.event_id if stored else "(duplicate)",
                len(body),
                event.malformed,
            )
            return web.json_response(
                {"ok": False, "malformed": event.malformed, "duplicate": stored is None}, status=202
            )
        if stored is not None and stored.unit_id is not None:
            # Stored with its unit: if no worker can be woken now (Redis down), the sweeper wakes one
            # within seconds of the queue coming back.
            deps = request.app[DEPS_KEY]
            await submit.push(deps.work_queue, deps.sessionmaker, [uuid.UUID(stored.unit_id)])
        return web.json_response({"ok": True, "duplicate": stored is None})

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


async def metrics(request: web.Request) -> web.Response:
    """Prometheus exposition: units by state, queue depth and age, task durations, retries, dead letters,
    webhook latencies, sweeper re-drives."""
    deps = request.app[DEPS_KEY]
    if deps.metrics is None:
        return web.Response(status=404, text="metrics are not collected in this process")
    body = await deps.metrics.render(deps)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


class _RefusedHttpIsAWarning(logging.Filter):
    """aiohttp logs every request its HTTP parser refuses (a control byte in a header, a bad chunk size)
    as an ERROR with a traceback, though it has answered 400 and nothing of ours ran: anyone could fill the
    error log and page the operator with one bad header. Such a record becomes a one-line WARNING; an
    exception from a handler stays an ERROR."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError) and 400 <= (exc.code or 400) < 500:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg = f"{record.getMessage()}: refused by the HTTP parser ({exc.code}): {exc.message}"
            record.args, record.exc_info, record.exc_text = None, None, None
        return True


_REFUSED_HTTP = _RefusedHttpIsAWarning()


def make_web_app(
    deps: CoreDeps,
    *,
    extra_routes: Callable[[web.Application], None] | None = None,
    bot_username: str | None = None,
) -> web.Application:
    """The web process's application; Telegram and Slack adapters mount theirs through `extra_routes`.
    `bot_username` makes the checkout return page link back to the Telegram chat."""
    limiter = RateLimiter(deps.redis, namespace=deps.settings.rate_limit_namespace)
    logging.getLogger("aiohttp.server").addFilter(_REFUSED_HTTP)  # added once however many apps are made
    app = web.Application(
        client_max_size=deps.settings.webhook_max_body_bytes,
        middlewares=[audit_middleware(deps.settings), limits_middleware(deps.settings, limiter)],
    )
    app[DEPS_KEY] = deps
    app[VERIFIERS_KEY] = build_verifiers(deps)
    inbox = GatewayInbox(asyncpg_dsn(engine_of(deps.sessionmaker)))
    app[INBOX_KEY] = inbox

    async def start_inbox(_: web.Application) -> None:
        await inbox.start()

    async def close_inbox(_: web.Application) -> None:
        await inbox.close()

    app.on_startup.append(start_inbox)
    app.on_cleanup.append(close_inbox)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/billing/return", billing_return.handler(deps, bot_username))
    oauth.add_routes(app, deps, bot_username)
    calendar.add_routes(app, deps)
    media.add_routes(app, deps)
    for sender in GATEWAYS:
        app.router.add_post(f"/webhooks/{sender}", gateway_handler(sender))
    for sender in PLATFORMS:
        app.router.add_post(f"/webhooks/{sender}", gateway_handler(sender, process_kind=PLATFORM_TASK))
    app.router.add_post(
        "/webhooks/meta/deauthorize",
        gateway_handler("meta", verifier="meta_deauthorize", process_kind=PLATFORM_TASK),
    )
    handshakes.add_routes(app, deps)
    if extra_routes is not None:
        extra_routes(app)
    return app
