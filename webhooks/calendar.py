"""`/calendar/<token>.ics`: the creator's publishing calendar for their calendar app (token checked first;
anything we didn't issue is a plain 404)."""

from __future__ import annotations

from aiohttp import web

from core.accounts import service as accounts
from core.deps import CoreDeps
from core.distribution import calendar_feed


def add_routes(app: web.Application, deps: CoreDeps) -> None:
    async def feed(request: web.Request) -> web.Response:
        user_id = calendar_feed.user_of(deps.settings, request.match_info["token"])
        if user_id is None:
            return web.Response(status=404)
        async with deps.sessionmaker() as session:
            await accounts.act_for_user(session=session, user_id=user_id)
            body = await calendar_feed.ics(session, user_id)
        return web.Response(body=body.encode(), content_type="text/calendar", charset="utf-8")

    app.router.add_get("/calendar/{token}.ics", feed)
