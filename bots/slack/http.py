"""Mount the bolt app on our aiohttp application (events, interactivity, commands, OAuth install)."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bots.slack.middleware import finish_request_session
from core.db.session import acting_for
from core.system.audit import AuditSource, acting_as, current

log = logging.getLogger(__name__)


async def bolt_request_of(request: web.Request) -> AsyncBoltRequest | web.Response:
    """The request as bolt reads it, or the refusal when bolt cannot read it. Bolt parses the body and the
    timestamp before it checks the signature, and a body that is not UTF-8, says JSON but is not, or is JSON
    but not an object (`payload=null`, `[1]`), and a timestamp that is not a number (or too big for a
    float), raised out of the handler or bolt's middleware: a 500 and a traceback for anyone's unsigned
    request. Slack sends none."""
    stamp = request.headers.get("X-Slack-Request-Timestamp")
    if stamp is not None and not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
        log.info("slack request refused: its timestamp is not a number")
        return web.Response(status=401)
    if not request.headers.get("X-Slack-Signature", "").isascii():  # hmac.compare_digest raised on it
        log.info("slack request refused: its signature is not ASCII")
        return web.Response(status=401)
    try:
        bolt_request = await to_bolt_request(request)
    except Exception as exc:
        log.info("slack request refused: bolt cannot read it (%s)", type(exc).__name__)
        return web.Response(status=400)
    if (problem := unreadable(bolt_request.body)) is not None:
        log.info("slack request refused: %s", problem)
        return web.Response(status=400)
    return bolt_request


def unreadable(body: Any) -> str | None:
    """What in a parsed body bolt would index blindly (its kwargs for every middleware read `actions[0]`,
    `event["type"]`, `view`): a signed but misshapen payload failed there as a 500. None when readable."""
    if not isinstance(body, dict):
        return "the body is not an object"
    if "event" in body and not (isinstance(body["event"], dict) and "type" in body["event"]):
        return "an event without a type"
    if body.get("type") in ("block_actions", "interactive_message") and "actions" in body:
        actions = body["actions"]
        if not (isinstance(actions, list) and actions and all(isinstance(a, dict) for a in actions)):
            return "actions that are not a list of actions"
    if "view" in body and not isinstance(body["view"], dict):
        return "a view that is not an object"
    for key in ("team", "user", "channel", "enterprise", "container", "message"):
        if key in body and not isinstance(body[key], dict | str | None):
            return f"a {key} that is neither an object nor an id"
    return None


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
        bolt_request = await bolt_request_of(request)
        if isinstance(bolt_request, web.Response):
            return bolt_request
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
            bolt_request = await bolt_request_of(request)
            if isinstance(bolt_request, web.Response):
                return bolt_request
            with acting_as(browser()):
                return await to_aiohttp_response(await flow.handle_installation(bolt_request))

        async def redirect(request: web.Request) -> web.Response:
            bolt_request = await bolt_request_of(request)
            if isinstance(bolt_request, web.Response):
                return bolt_request
            with acting_as(browser()):
                return await to_aiohttp_response(await flow.handle_callback(bolt_request))

        app.router.add_get(install_path, install)
        app.router.add_get(redirect_path, redirect)
