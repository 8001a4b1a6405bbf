"""Which door a web request came through, for its audit rows: `core.system.audit.AuditSource`.

Every request gets the source address (`X-Forwarded-For` believed only from TRUSTED_PROXIES, as the
limits do) and user agent, and a channel by route: payment gateways' webhooks `gateway`, platforms'
`platform`, everything else `web`. The Slack and Telegram adapters narrow it to their own channel.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from core.config import Settings
from core.inbox.store import PLATFORMS
from core.system.audit import AuditSource, acting_as
from webhooks.limits import source_of, trusted_proxies

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
GATEWAYS = ("razorpay", "stripe", "cashfree", "paypal")


def channel_of(path: str) -> str:
    if path.startswith("/webhooks/"):
        sender = path.removeprefix("/webhooks/").split("/", 1)[0]
        if sender in GATEWAYS:
            return "gateway"
        if sender in PLATFORMS:
            return "platform"
    return "web"


def audit_middleware(settings: Settings) -> Middleware:
    trusted = trusted_proxies(settings)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        source = AuditSource(
            channel_of(request.path),
            ip_address=source_of(request, trusted),
            user_agent=request.headers.get("User-Agent"),
        )
        with acting_as(source):
            return await handler(request)

    return middleware
