"""Per-source limits on the web doors, answered with 429 and `Retry-After`.

Two kinds of door:
- **signed deliveries** (payment gateways, platforms, Slack, Telegram): only *refused* requests count, per
  route and source address. Gateways retry hard and in bursts, and a storm of validly signed (even
  duplicate) events must still get its 2xx, so a source that sends only valid deliveries is never limited;
  one that keeps sending forged or malformed ones is, until its window clears.
- **links people open** (OAuth callbacks, media links, calendar feeds, the checkout return page): every
  request counts, per route and source address.

The source is the peer address; `X-Forwarded-For` is believed only when the peer is one of
`TRUSTED_PROXIES` (then the right-most address that is not a trusted proxy). Counting is
`core.limits.RateLimiter` on Redis, failing open while Redis is away.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Middleware

from core.config import Settings
from core.limits.window import RateLimiter, Rule

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SIGNED_PREFIXES = ("/webhooks/", "/slack/events", "/telegram/")
LINK_PREFIXES = ("/oauth/", "/media/", "/calendar/", "/billing/return", "/slack/install", "/slack/oauth_redirect")
# What a refusal is: the request was not a delivery we could accept (not a server error, not a rate limit).
REFUSED = frozenset({400, 401, 403, 404, 405, 413, 415, 422})


@dataclass(frozen=True)
class Door:
    prefix: str
    rule: Rule
    refusals_only: bool


def doors(settings: Settings) -> list[Door]:
    refused = settings.web_refusals_per_minute
    opened = settings.web_requests_per_minute
    return [
        *(Door(p, Rule(f"web-refused{p.rstrip('/')}", refused, 60), True) for p in SIGNED_PREFIXES),
        *(Door(p, Rule(f"web{p.rstrip('/')}", opened, 60), False) for p in LINK_PREFIXES),
    ]


def trusted_proxies(settings: Settings) -> frozenset[str]:
    return frozenset(a.strip() for a in settings.trusted_proxies.split(",") if a.strip())


def source_of(request: web.Request, trusted: frozenset[str]) -> str:
    peer = request.remote or "unknown"
    if peer not in trusted:
        return peer
    forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",") if a.strip()]
    for address in reversed(forwarded):
        if address not in trusted:
            return address
    return peer


def _route_of(door: Door, path: str) -> str:
    """The door and, for signed deliveries, the sender (`/webhooks/razorpay`): each gateway counts apart."""
    if door.refusals_only and door.prefix == "/webhooks/":
        return "/webhooks/" + path.removeprefix("/webhooks/").split("/", 1)[0]
    return door.prefix


def too_many(retry_after_s: int) -> web.Response:
    return web.json_response(
        {"error": "too many requests from this address", "retry_after_s": retry_after_s},
        status=429,
        headers={"Retry-After": str(max(1, retry_after_s))},
    )


def limits_middleware(settings: Settings, limiter: RateLimiter) -> Middleware:
    table = doors(settings)
    trusted = trusted_proxies(settings)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        door = next((d for d in table if request.path.startswith(d.prefix)), None)
        if door is None:
            return await handler(request)
        subject = f"{source_of(request, trusted)}|{_route_of(door, request.path)}"
        if not door.refusals_only:
            verdict = await limiter.hit(subject, door.rule)
            return too_many(verdict.retry_after_s) if not verdict.allowed else await handler(request)
        verdict = await limiter.check(subject, door.rule)
        if not verdict.allowed:
            return too_many(verdict.retry_after_s)
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            if exc.status in REFUSED:
                await limiter.hit(subject, door.rule)
            raise
        if response.status in REFUSED:
            await limiter.hit(subject, door.rule)
        return response

    return middleware
