"""Build the bolt app from `CoreDeps`: one workspace with a bot token, or many through OAuth v2."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.buttons import button_values_middleware
from bots.slack.flood import flood_middleware
from bots.slack.installation_store import PostgresInstallationStore, RedisOAuthStateStore
from bots.slack.listeners import actions, commands, events, publish, qa, setup, views
from bots.slack.middleware import session_middleware
from bots.slack.oauth import RecastOAuthFlow
from bots.slack.outbox import token_cipher
from core.deps import CoreDeps
from core.limits.window import RateLimiter

BOT_SCOPES = [
    "commands",
    "chat:write",
    "chat:write.public",
    "files:read",
    "files:write",  # charts: `/recast stats` and the weekly digest
    "im:write",  # `/recast stats <client>` answers in the asker's direct messages
    "users:read",
    "users:read.email",
    "channels:read",
    "channels:history",
    "groups:history",
    "files:write",  # monthly reports uploaded to a client's channel
]


def make_slack_app(deps: CoreDeps, *, client: AsyncWebClient | None = None) -> AsyncApp:
    """OAuth mode when SLACK_CLIENT_ID is set (installations in PostgreSQL), else SLACK_BOT_TOKEN mode."""
    settings = deps.settings
    if settings.slack_signing_secret is None:
        raise RuntimeError("SLACK_SIGNING_SECRET is required to verify Slack's requests")
    secret = settings.slack_signing_secret.get_secret_value()
    # process_before_response: the middleware's session outlives every ack-phase listener; slow work
    # runs in lazy listeners, which open their own sessions.
    if client is None and settings.slack_api_url:
        client = AsyncWebClient(base_url=settings.slack_api_url)
    if settings.slack_client_id:
        store = PostgresInstallationStore(deps.sessionmaker, settings.slack_client_id, token_cipher(deps))
        client_secret = settings.slack_client_secret.get_secret_value() if settings.slack_client_secret else None
        state_store = RedisOAuthStateStore(deps.redis)
        flow = RecastOAuthFlow(
            client=client,
            state_store=state_store,
            sessionmaker=deps.sessionmaker,
            secret=settings.secret_keys(),
            settings=AsyncOAuthSettings(
                client_id=settings.slack_client_id,
                client_secret=client_secret,
                scopes=BOT_SCOPES,
                installation_store=store,
                state_store=state_store,
                install_page_rendering_enabled=False,
                redirect_uri_path="/slack/oauth_redirect",
                install_path="/slack/install",
            ),
        )
        app = AsyncApp(
            signing_secret=secret,
            client=client,
            process_before_response=True,
            installation_store=store,
            oauth_flow=flow,
        )
    else:
        if settings.slack_bot_token is None:
            raise RuntimeError("Set SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID (OAuth install)")
        token = settings.slack_bot_token.get_secret_value()
        if client is not None:
            client.token = token
        app = AsyncApp(
            token=None if client else token, client=client, signing_secret=secret, process_before_response=True
        )
    # Flood control first: a dropped request never opens a database session.
    app.middleware(flood_middleware(RateLimiter(deps.redis, namespace=settings.rate_limit_namespace), settings))
    app.middleware(button_values_middleware)
    app.middleware(session_middleware(deps))
    for module in (commands, actions, views, events, setup, qa, publish):
        module.register(app, deps)
    return app
