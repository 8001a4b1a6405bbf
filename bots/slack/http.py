"""Mount the bolt app on our aiohttp application (events, interactivity, commands, OAuth install)."""

from __future__ import annotations

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bots.slack.middleware import finish_request_session
from core.db.session import acting_for
from core.system.audit import AuditSource, acting_as, current


def mount_slack(
    app: web.Application,
    slack_app: AsyncApp,
    path: str = "/slack/events",
    *,
    install_path: str = "/slack/install",
    redirect_path: str = "/slack/oauth_redirect",
) -> None:
    """Route Slack's requests to bolt. Bolt verifies the signing secret (5-minute window) and answers
    401 before any listener runs; OAuth routes exist only when the app has an OAuth flow."""

    async def events(request: web.Request) -> web.Response:
        bolt_request = await to_bolt_request(request)
        ok = False
        try:
            with acting_for(None):  # the team the request acts for (middleware) ends with the request
                response = await slack_app.async_dispatch(bolt_request)
                ok = response.status < 500
                await finish_request_session(bolt_request.context, ok=ok)
        except BaseException:
            await finish_request_session(bolt_request.context, ok=False)
            raise
        return await to_aiohttp_response(response)

    app.router.add_post(path, events)
    flow = slack_app.oauth_flow
    if flow is not None:

        def browser() -> AuditSource:  # an installer's browser: the slack channel, its address kept
            source = current()
            return source.but(channel="slack") if source is not None else AuditSource("slack")

        async def install(request: web.Request) -> web.Response:
            with acting_as(browser()):
                return await to_aiohttp_response(await flow.handle_installation(await to_bolt_request(request)))

        async def redirect(request: web.Request) -> web.Response:
            with acting_as(browser()):
                return await to_aiohttp_response(await flow.handle_callback(await to_bolt_request(request)))

        app.router.add_get(install_path, install)
        app.router.add_get(redirect_path, redirect)
