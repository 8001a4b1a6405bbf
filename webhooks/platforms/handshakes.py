"""The GETs platforms make before (and while) they send webhooks: answered only when they prove what they
must (our verify token, a topic we subscribed to), otherwise 403 with nothing echoed."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from core.deps import CoreDeps
from core.distribution.models import PlatformConnection
from webhooks.platforms import linkedin, meta, youtube


def add_routes(app: web.Application, deps: CoreDeps) -> None:
    settings = deps.settings

    async def meta_handshake(request: web.Request) -> web.Response:
        token = settings.meta_verify_token.get_secret_value() if settings.meta_verify_token else None
        challenge = meta.subscription_challenge(request.query, token)
        return web.Response(text=challenge) if challenge else web.Response(status=403)

    async def linkedin_validation(request: web.Request) -> web.Response:
        code = request.query.get("challengeCode", "")
        if not code or settings.linkedin_client_secret is None:
            return web.Response(status=403)
        return web.json_response(linkedin.challenge_response(code, settings.linkedin_client_secret.get_secret_value()))

    async def youtube_intent(request: web.Request) -> web.Response:
        async with deps.sessionmaker() as session:
            channels = set(
                (
                    await session.scalars(
                        select(PlatformConnection.platform_user_id).where(PlatformConnection.platform == "youtube")
                    )
                ).all()
            )
        challenge = youtube.intent_challenge(request.query, {c for c in channels if c})
        return web.Response(text=challenge) if challenge else web.Response(status=404)

    app.router.add_get("/webhooks/meta", meta_handshake)
    app.router.add_get("/webhooks/linkedin", linkedin_validation)
    app.router.add_get("/webhooks/youtube", youtube_intent)
