from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from pydantic import SecretStr
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import text

from bots.slack import make_slack_app, mount_slack
from core.config import Settings
from core.db.session import APP_ROLE, make_engine, make_sessionmaker, session_scope
from core.deps import CoreDeps
from core.integrations import slack_links
from recast.commands import with_slack_notices
from tasks.registry import load_all
from tests.core.workflow.builders import (
    Team,
    add_workflow,
    build_team,
    committed_sessionmaker,
    make_deps,
    migrated_database,
)
from tests.fakes.linkedin_api import FakeLinkedIn
from tests.fakes.slack_api import FakeSlack
from tests.workers import drain, running_worker
from webhooks.app import make_web_app

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM, CHANNEL = "T0RECAST", "C0ACME"
OWNER, LOGIN = "tables' owner", "RLS-bound login role"
# `pytestmark = BOTH_LOGINS` runs a module's tests twice: the bolt app, the web app and the worker connected
# as the tables' owner (development), then as the RLS-bound login role production uses, where a session
# that names no organization sees no tenant's rows and cannot write one.
BOTH_LOGINS = pytest.mark.parametrize("slack_login", [OWNER, LOGIN])


@pytest.fixture(scope="session")
def slack_db_url(make_database: Any) -> str:
    return migrated_database(make_database, "slack")


@pytest.fixture
async def real_sessionmaker(slack_db_url: str):
    async for maker in committed_sessionmaker(slack_db_url):
        yield maker


@pytest.fixture
def slack_login() -> str:
    """How the app under test connects (`BOTH_LOGINS` parametrizes it): the tables' owner unless told."""
    return OWNER


class LoginTwin:
    """The deps the app under test (bolt, the web app, the worker) runs with on the login role: every
    attribute is the test's `deps`' (set on either, seen by both: a worker's `attach`, `publishing_web`'s
    settings), except the sessionmaker. The test itself keeps the owner's sessionmaker for its set-up and
    its checks, as an operator would."""

    def __init__(self, deps: CoreDeps, sessionmaker: Any) -> None:
        object.__setattr__(self, "_deps", deps)
        object.__setattr__(self, "sessionmaker", sessionmaker)

    def __getattr__(self, name: str) -> Any:
        return getattr(object.__getattribute__(self, "_deps"), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(object.__getattribute__(self, "_deps"), name, value)


@pytest.fixture
def slack_login_url(slack_login: str, slack_db_url: str, request: pytest.FixtureRequest) -> str | None:
    """The Slack database's URL as the RLS-bound login role, when `slack_login` asks for it (the role is
    made once, by `login_url`, outside any event loop)."""
    if slack_login == OWNER:
        return None
    return str(request.getfixturevalue("login_url")(slack_db_url))


@contextlib.asynccontextmanager
async def as_app(deps: CoreDeps, login_url: str | None) -> AsyncIterator[Any]:
    if login_url is None:
        yield deps
        return
    engine = make_engine(login_url, pool_size=5)
    try:
        sessionmaker = make_sessionmaker(engine)
        async with sessionmaker() as session:  # bound by the policies: naming no one, it is recast_app
            assert await session.scalar(text("SELECT current_user")) == APP_ROLE
        yield LoginTwin(deps, sessionmaker)
    finally:
        await engine.dispose()


@pytest.fixture
async def app_deps(deps, slack_login_url) -> AsyncIterator[Any]:
    """`deps` as the bolt app, the web app and the worker see them (`slack_login`)."""
    async with as_app(deps, slack_login_url) as app:
        yield app


@pytest.fixture
async def oauth_app_deps(oauth_deps, slack_login_url) -> AsyncIterator[Any]:
    async with as_app(oauth_deps, slack_login_url) as app:
        yield app


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(team_id=TEAM) as fake:
        yield fake


@pytest.fixture
def deps(real_sessionmaker, redis_client, tmp_path, offline_ai, fake_slack):
    deps = make_deps(real_sessionmaker, redis_client, tmp_path, offline_ai)
    deps.settings = Settings(
        recast_data_dir=tmp_path / "data",
        _env_file=None,
        slack_bot_token=SecretStr("xoxb-test-token"),
        slack_signing_secret=SecretStr(SIGNING_SECRET),
        slack_api_url=fake_slack.base_url,
        recast_secret_key=SecretStr("test-secret-key-for-slack"),
        link_allow_private_networks=True,  # the "web" in these tests is a local server
        # Flood counters per test: every test speaks in the same channel, and the channel limit counts them all.
        rate_limit_namespace=f"slack-test-{uuid.uuid4().hex[:10]}",
    )
    return deps


@contextlib.asynccontextmanager
async def slack_worker(deps: Any, run_id: str) -> AsyncIterator[Any]:
    """A real worker running every task (pipeline and Slack) with `deps`; `worker.drain()` waits for it."""
    async with running_worker(deps, f"recast-slack-{run_id}-{uuid.uuid4().hex[:8]}") as running:
        running.drain = lambda timeout=180.0: drain(running, timeout)  # type: ignore[attr-defined]
        yield running
        await drain(running)  # let follow-up tasks finish while the fake Slack and the database are still up


@pytest.fixture
async def worker(app_deps, run_id) -> AsyncIterator[Any]:
    async with slack_worker(app_deps, run_id) as running:
        yield running


@pytest.fixture
async def oauth_worker(oauth_app_deps, run_id) -> AsyncIterator[Any]:
    async with slack_worker(oauth_app_deps, run_id) as running:
        yield running


def block_action(
    *,
    team: str,
    channel: str | None,
    user: str,
    action_id: str,
    value: str,
    message_ts: str = "1",
    ephemeral: bool = False,
) -> dict[str, Any]:
    """A button click as Slack posts it (`block_actions`), from a channel message or from App Home."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": team, "domain": "recast"},
        "api_app_id": "A0RECAST",
        "user": {"id": user, "team_id": team},
        "token": "legacy",
        "trigger_id": f"trig-{uuid.uuid4().hex}",
        "response_url": "https://hooks.slack.invalid/actions/1",
        "actions": [
            {"type": "button", "action_id": action_id, "block_id": "b", "value": value, "action_ts": str(time.time())}
        ],
    }
    if channel is None:
        payload["container"] = {"type": "view", "view_id": "VHOME"}
        payload["view"] = {"id": "VHOME", "type": "home"}
    else:
        payload["container"] = {
            "type": "message",
            "channel_id": channel,
            "message_ts": message_ts,
            "is_ephemeral": ephemeral,
        }
        payload["channel"] = {"id": channel, "name": "channel"}
        payload["message"] = {"ts": message_ts, "type": "message"}
    return payload


def view_submission(*, team: str, user: str, callback_id: str, meta: str, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "view_submission",
        "team": {"id": team},
        "api_app_id": "A0RECAST",
        "token": "legacy",
        "user": {"id": user, "team_id": team},
        "trigger_id": "trig-view",
        "view": {
            "id": "V1",
            "type": "modal",
            "team_id": team,
            "callback_id": callback_id,
            "private_metadata": meta,
            "app_id": "A0RECAST",
            "state": {"values": values},
        },
    }


@dataclass
class SlackHTTP:
    url: str
    http: aiohttp.ClientSession
    client: AsyncWebClient

    async def command(self, user: str, text: str, *, channel: str = CHANNEL, team: str = TEAM) -> str:
        """Run `/recast <text>` as `user`; returns the immediate (ack) response text, if any."""
        body = urlencode(
            {
                "token": "legacy",
                "team_id": team,
                "channel_id": channel,
                "user_id": user,
                "command": "/recast",
                "text": text,
                "trigger_id": f"trig-{uuid.uuid4().hex}",
                "api_app_id": "A0RECAST",
                "response_url": "https://hooks.slack.invalid/commands/1",
            }
        )
        resp = await self.send(body, "application/x-www-form-urlencoded")
        assert resp.status == 200
        raw = await resp.text()
        return str(json.loads(raw).get("text", "")) if raw.startswith("{") else raw

    async def event(self, event: dict[str, Any], *, team: str = TEAM) -> None:
        body = json.dumps(
            {
                "token": "legacy",
                "team_id": team,
                "api_app_id": "A0RECAST",
                "type": "event_callback",
                "event_id": f"Ev{uuid.uuid4().hex[:12].upper()}",
                "event_time": int(time.time()),
                "event": event,
            }
        )
        assert (await self.send(body, "application/json")).status == 200

    async def send(
        self, body: str, content_type: str, *, ts: int | None = None, headers: dict[str, str] | None = None
    ) -> aiohttp.ClientResponse:
        stamp = str(ts if ts is not None else int(time.time()))
        digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
        all_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": f"v0={digest}",
            **(headers or {}),
        }
        async with self.http.post(self.url, data=body.encode(), headers=all_headers) as resp:
            await resp.read()
            return resp

    @staticmethod
    def interactive_body(payload: dict[str, Any]) -> str:
        return urlencode({"payload": json.dumps(payload)})

    async def interact(self, payload: dict[str, Any]) -> tuple[int, str]:
        """Post a signed interactivity payload (a click, a modal submission); (status, response body)."""
        body = self.interactive_body(payload)
        stamp = str(int(time.time()))
        digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": f"v0={digest}",
        }
        async with self.http.post(self.url, data=body.encode(), headers=headers) as resp:
            return resp.status, await resp.text()


@pytest.fixture
async def slack(app_deps, fake_slack) -> AsyncIterator[SlackHTTP]:
    client = AsyncWebClient(base_url=fake_slack.base_url)
    bolt = make_slack_app(app_deps, client=client)
    app = web.Application()
    mount_slack(app, bolt)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        yield SlackHTTP(str(server.make_url("/slack/events")), http, client)
    await server.close()


@dataclass
class Agency:
    team: Team
    slack_ids: dict[str, str]


@pytest.fixture
async def agency(deps) -> Agency:
    async with session_scope(deps.sessionmaker) as s:
        team = await build_team(s)
        await add_workflow(s, team)
        await slack_links.link_workspace(
            session=s, team_id=TEAM, organization_id=team.org.id, default_channel_id="C0GENERAL"
        )
        await slack_links.link_channel(session=s, team_id=TEAM, channel_id=CHANNEL, client_account_id=team.client.id)
        ids = {}
        for name, user in (
            ("manager", team.manager),
            ("client", team.client_reviewer),
            ("outsider", team.outsider),
            ("owner", team.owner),
        ):
            ids[name] = f"U{uuid.uuid4().hex[:10].upper()}"
            await slack_links.link_user(session=s, user_id=user.id, slack_user_id=ids[name], team_id=TEAM)
    return Agency(team, ids)


OAUTH_SECRET = "oauth-test-secret-key"
CLIENT_ID = "1111.2222"


@dataclass
class Installer:
    """A browser going through the OAuth install, and signed Slack requests to the same app."""

    base: str
    http: aiohttp.ClientSession
    slack: SlackHTTP
    cookie: str = ""

    async def authorize(self, query: str) -> tuple[int, str]:
        async with self.http.get(f"{self.base}/slack/install{query}", allow_redirects=False) as resp:
            await resp.read()
            self.cookie = resp.headers.get("Set-Cookie", "").split(";")[0]
            return resp.status, resp.headers.get("Location", "")

    async def callback(self, state: str, code: str = "good-code") -> tuple[int, str]:
        async with self.http.get(
            f"{self.base}/slack/oauth_redirect",
            params={"code": code, "state": state},
            headers={"Cookie": self.cookie},
            allow_redirects=False,
        ) as resp:
            return resp.status, await resp.text()

    async def install(self, query: str = "") -> tuple[int, str]:
        """The whole install: /slack/install → Slack's authorize page (skipped: its state) → the callback."""
        status, location = await self.authorize(query)
        assert status == 302, location
        return await self.callback(parse_qs(urlparse(location).query)["state"][0])


@pytest.fixture
def oauth_deps(real_sessionmaker, redis_client, tmp_path, offline_ai, fake_slack):
    deps = make_deps(real_sessionmaker, redis_client, tmp_path, offline_ai)
    deps.settings = Settings(
        recast_data_dir=tmp_path / "data",
        _env_file=None,
        slack_signing_secret=SecretStr(SIGNING_SECRET),
        slack_client_id=CLIENT_ID,
        slack_client_secret=SecretStr("client-secret"),
        slack_api_url=fake_slack.base_url,
        recast_secret_key=SecretStr(OAUTH_SECRET),
        public_base_url="https://recast.example.in",
        link_allow_private_networks=True,
    )
    return deps


@pytest.fixture
async def installer(oauth_app_deps, fake_slack) -> AsyncIterator[Installer]:
    bolt = make_slack_app(oauth_app_deps, client=AsyncWebClient(base_url=fake_slack.base_url))
    app = web.Application()
    mount_slack(app, bolt)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    # Bolt's state cookie is `Secure` (https only), so the tests carry it back by hand, as a browser would.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        slack = SlackHTTP(str(server.make_url("/slack/events")), http, AsyncWebClient(base_url=fake_slack.base_url))
        yield Installer(str(server.make_url("")).rstrip("/"), http, slack)
    await server.close()


@pytest.fixture
async def publishing_web(deps: CoreDeps, app_deps: Any, linkedin: FakeLinkedIn) -> AsyncIterator[str]:
    """The web app (OAuth callbacks) on a local port, and deps pointed at the fake LinkedIn; Slack-bound
    outbox messages go through the Slack notifier to the fake Slack, as in `recast serve`."""
    load_all()
    server = TestServer(make_web_app(app_deps), host="127.0.0.1")
    await server.start_server()
    deps.settings = deps.settings.model_copy(
        update={
            "linkedin_client_id": linkedin.client_id,
            "linkedin_client_secret": SecretStr(linkedin.client_secret),
            "linkedin_api_base": linkedin.base_url,
            "linkedin_oauth_base": f"{linkedin.base_url}/oauth/v2",
            "platform_timeout_s": 2.0,
            "public_base_url": str(server.make_url("")).rstrip("/"),
        }
    )
    with_slack_notices(app_deps)
    yield str(server.make_url(""))
    await server.close()


def telegram_sent(deps: CoreDeps) -> list[Any]:
    return deps.notifier.default.sent  # type: ignore[attr-defined]
