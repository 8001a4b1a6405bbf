"""`/oauth/<platform>/callback`: where a platform sends the owner back after they approved (or declined)
Recast's access. The state is checked (signed, single-use, expiring) before anything else; the chat the
connect started from is told what happened; the browser gets a page saying the same."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from core.common.errors import RecastError
from core.deps import CoreDeps
from core.distribution import connect
from core.distribution.errors import ConnectFailed, OAuthStateInvalid
from core.distribution.platforms.names import Platform, label
from webhooks.pages import page

log = logging.getLogger(__name__)


def _html(title: str, body: str, bot_username: str | None, status: int = 200) -> web.Response:
    return web.Response(status=status, text=page(title, body, bot_username), content_type="text/html")


def handler(deps: CoreDeps, bot_username: str | None) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def callback(request: web.Request) -> web.Response:
        try:
            platform = Platform(request.match_info["platform"])
        except ValueError:
            return _html("Unknown platform", "This link doesn't belong to a platform Recast knows.", bot_username, 404)
        state, code = request.query.get("state", ""), request.query.get("code", "")
        if request.query.get("error"):
            return await _declined(deps, platform, state, bot_username)
        if not state or not code:
            name = label(platform)
            return _html(
                f"{name} didn't send a sign-in code", "Start again with /connect in the chat.", bot_username, 400
            )
        return await _connect(deps, platform, state, code, bot_username)

    return callback


async def _connect(deps: CoreDeps, platform: Platform, state: str, code: str, bot_username: str | None) -> web.Response:
    name = label(platform)
    try:
        async with deps.sessionmaker() as session:
            connected = await connect.finish_connect(
                session, deps.redis, deps.settings, platform, state=state, code=code
            )
            await session.commit()
    except OAuthStateInvalid as exc:
        return _html("This sign-in link can't be used", exc.user_message, bot_username, 400)
    except ConnectFailed as exc:
        # The platform's doing (a refused code, no answer, garbage), not ours: a 4xx page, a WARNING, and the
        # chat the connect began in is told too, since the state is used up.
        log.warning("connecting %s failed: %s", platform, exc)
        await connect.flush_messages(deps, await connect.failed(deps, platform, exc, state))
        body = f"{exc.reason} Nothing was connected. Start again with /connect in the chat."
        return _html(f"{name} wasn't connected", body, bot_username, 400)
    except RecastError as exc:
        return _html(f"{name} wasn't connected", exc.user_message, bot_username, 400)
    await connect.after_commit(deps, connected)
    who = f" as {connected.username}" if connected.username else ""
    return _html(
        f"{name} connected ✅", f"Recast can now publish to {name}{who}. The details are in the chat.", bot_username
    )


async def _declined(deps: CoreDeps, platform: Platform, state: str, bot_username: str | None) -> web.Response:
    """The owner said no on the platform's page: use up the state and say so in the chat too."""
    name = label(platform)
    try:
        units = await connect.declined(deps, platform, state)
    except OAuthStateInvalid:
        units = []
    await connect.flush_messages(deps, units)
    return _html(f"{name} wasn't connected", f"You declined on {name}'s page, so nothing was connected.", bot_username)


def add_routes(app: web.Application, deps: CoreDeps, bot_username: str | None) -> None:
    app.router.add_get("/oauth/{platform}/callback", handler(deps, bot_username))
