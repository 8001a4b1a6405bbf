"""The OAuth v2 install over HTTP, tied to an organization by its install code: /slack/install → Slack's
authorize URL with a state → /slack/oauth_redirect with a code → oauth.v2.access on the local Slack Web API
→ the installation stored (tokens encrypted) and the workspace linked. Then a signed request from that
workspace is answered with the stored (decrypted) token."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from pydantic import SecretStr
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from bots.slack import make_slack_app, mount_slack
from core.accounts.models import ChatIdentity
from core.config import Settings
from core.db.session import session_scope
from core.workflow.slack_models import SlackInstallation, SlackWorkspace
from core.workflow.slack_secrets import PREFIX, TokenCipher, TokenUnreadable, install_code, organization_of_code
from tests.bots.slack.conftest import SIGNING_SECRET, SlackHTTP
from tests.core.workflow.builders import Team, build_team, make_deps

SECRET = "oauth-test-secret-key"
CLIENT_ID = "1111.2222"


@dataclass
class Installer:
    base: str
    http: aiohttp.ClientSession
    slack: SlackHTTP
    cookie: str = ""


@pytest.fixture
def oauth_deps(real_sessionmaker, redis_client, tmp_path, offline_ai, fake_slack):
    deps = make_deps(real_sessionmaker, redis_client, tmp_path, offline_ai)
    deps.settings = Settings(
        recast_data_dir=tmp_path / "data", _env_file=None, slack_signing_secret=SecretStr(SIGNING_SECRET),
        slack_client_id=CLIENT_ID, slack_client_secret=SecretStr("client-secret"),
        slack_api_url=fake_slack.base_url, recast_secret_key=SecretStr(SECRET),
        public_base_url="https://recast.example.in",
    )
    return deps


@pytest.fixture
async def installer(oauth_deps, fake_slack) -> AsyncIterator[Installer]:
    bolt = make_slack_app(oauth_deps, client=AsyncWebClient(base_url=fake_slack.base_url))
    app = web.Application()
    mount_slack(app, bolt)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    # Bolt's state cookie is `Secure` (https only), so the tests carry it back by hand, as a browser would.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        slack = SlackHTTP(str(server.make_url("/slack/events")), http, AsyncWebClient(base_url=fake_slack.base_url))
        yield Installer(str(server.make_url("")).rstrip("/"), http, slack)
    await server.close()


async def _team(deps, fake_slack) -> Team:
    fake_slack.oauth_team_id = f"T{uuid.uuid4().hex[:10].upper()}"  # each test installs a workspace of its own
    async with session_scope(deps.sessionmaker) as s:
        return await build_team(s)


async def _authorize(inst: Installer, query: str) -> tuple[int, str]:
    async with inst.http.get(f"{inst.base}/slack/install{query}", allow_redirects=False) as resp:
        await resp.read()
        inst.cookie = resp.headers.get("Set-Cookie", "").split(";")[0]
        return resp.status, resp.headers.get("Location", "")


async def _callback(inst: Installer, state: str, code: str = "good-code") -> tuple[int, str]:
    async with inst.http.get(f"{inst.base}/slack/oauth_redirect", params={"code": code, "state": state},
                             headers={"Cookie": inst.cookie}, allow_redirects=False) as resp:
        return resp.status, await resp.text()


async def test_install_from_an_org_link_stores_an_encrypted_token_and_links_the_workspace(
    oauth_deps, installer, fake_slack
):
    team = await _team(oauth_deps, fake_slack)
    fake_slack.add_user("U0INSTALLER", team.owner.email, "Olivia")
    code = install_code(SECRET, team.org.id)

    status, location = await _authorize(installer, f"?org={code}")
    assert status == 302
    authorize = urlparse(location)
    query = parse_qs(authorize.query)
    assert (authorize.netloc, authorize.path) == ("slack.com", "/oauth/v2/authorize")
    assert query["client_id"] == [CLIENT_ID] and "users:read.email" in query["scope"][0].split(",")
    state = query["state"][0]

    status, page = await _callback(installer, state)
    assert status == 200, page
    (access,) = fake_slack.calls_to("oauth.v2.access")
    assert access.params["code"] == "good-code"

    async with oauth_deps.sessionmaker() as s:
        row = await s.scalar(select(SlackInstallation).where(SlackInstallation.team_id == fake_slack.oauth_team_id))
        ws = await s.get_one(SlackWorkspace, fake_slack.oauth_team_id)
        installer_identity = await s.scalar(select(ChatIdentity.user_id).where(
            ChatIdentity.provider == "slack", ChatIdentity.external_user_id == "U0INSTALLER"))
    assert row is not None and row.organization_id == team.org.id and ws.organization_id == team.org.id
    # Encrypted at rest, in the column and in the stored Installation dict, and round-trips with the key.
    assert row.bot_token is not None and row.bot_token.startswith(PREFIX) and "xoxb-installed" not in row.bot_token
    assert "xoxb-installed" not in str(row.data) and row.data["bot_token"].startswith(PREFIX)
    assert TokenCipher(SECRET).decrypt(row.bot_token) == "xoxb-installed"
    with pytest.raises(TokenUnreadable):
        TokenCipher("a-different-key").decrypt(row.bot_token)
    assert installer_identity == team.owner.id  # the installer was matched to the owner by email

    # A state is good once: replaying the callback is refused and stores nothing more.
    status, _ = await _callback(installer, state)
    assert status == 401

    # Requests from the new workspace are answered with its own (decrypted) bot token.
    await installer.slack.command("U0INSTALLER", "approvals", channel="C0OAUTH", team=fake_slack.oauth_team_id)
    (listing,) = await fake_slack.wait_for("chat.postEphemeral", lambda c: c.params.get("user") == "U0INSTALLER")
    assert listing.token == "xoxb-installed" and listing.params["channel"] == "C0OAUTH"
    async with oauth_deps.sessionmaker() as s:
        rows = await s.scalars(select(SlackInstallation).where(SlackInstallation.team_id == fake_slack.oauth_team_id))
    assert len(rows.all()) == 1


async def test_install_link_command_hands_out_a_working_install_url(oauth_deps, installer, fake_slack):
    team = await _team(oauth_deps, fake_slack)
    fake_slack.add_user("U0INSTALLER", team.owner.email, "Olivia")
    status, location = await _authorize(installer, f"?org={install_code(SECRET, team.org.id)}")
    await _callback(installer, parse_qs(urlparse(location).query)["state"][0])

    await installer.slack.command("U0INSTALLER", "install-link", channel="C0OAUTH", team=fake_slack.oauth_team_id)
    (note,) = await fake_slack.wait_for("chat.postEphemeral", lambda c: c.params.get("user") == "U0INSTALLER")
    assert "https://recast.example.in/slack/install?org=" in note.params["text"]
    code = note.params["text"].split("?org=")[1].split("|")[0]
    assert organization_of_code(SECRET, code) == team.org.id


async def test_forged_or_expired_install_links_are_refused_and_plain_installs_stay_unlinked(
    oauth_deps, installer, fake_slack
):
    team = await _team(oauth_deps, fake_slack)
    expired = install_code(SECRET, team.org.id, now=time.time() - 30 * 24 * 3600)
    for bad in (install_code("not-our-secret", team.org.id), expired, "garbage"):
        status, location = await _authorize(installer, f"?org={bad}")
        assert (status, location) == (400, "")
    assert fake_slack.calls_to("oauth.v2.access") == []

    status, location = await _authorize(installer, "")
    assert status == 302
    status, _ = await _callback(installer, parse_qs(urlparse(location).query)["state"][0])
    assert status == 200
    async with oauth_deps.sessionmaker() as s:
        row = await s.scalar(select(SlackInstallation).where(SlackInstallation.team_id == fake_slack.oauth_team_id))
        assert row is not None and row.organization_id is None
        assert await s.get(SlackWorkspace, fake_slack.oauth_team_id) is None
    made_up = f"made-up-{uuid.uuid4().hex}"
    status, _ = await _callback(installer, made_up)
    assert status == 400  # the browser's cookie names another state
    installer.cookie = f"slack-app-oauth-state={made_up}"
    status, _ = await _callback(installer, made_up)
    assert status == 401  # cookie and state agree, but we never issued it


def test_install_codes_are_bound_to_the_key_and_expire():
    org = uuid.uuid4()
    code = install_code(SECRET, org, now=1_000_000, ttl_seconds=60)
    assert organization_of_code(SECRET, code, now=1_000_030) == org
    assert organization_of_code(SECRET, code, now=1_000_061) is None
    assert organization_of_code("other", code, now=1_000_030) is None
    body, mac = code.split(".")
    tampered = body[:-2] + ("AA" if body[-2:] != "AA" else "BB")
    assert organization_of_code(SECRET, f"{tampered}.{mac}", now=1_000_030) is None


def test_token_cipher_round_trips_and_leaves_other_fields_alone():
    cipher = TokenCipher(SECRET)
    sealed = cipher.seal({"bot_token": "xoxb-1", "user_token": "xoxp-2", "team_id": "T1", "bot_refresh_token": None})
    assert sealed["team_id"] == "T1" and sealed["bot_refresh_token"] is None
    assert sealed["bot_token"].startswith(PREFIX) and sealed["bot_token"] != cipher.seal({"bot_token": "xoxb-1"})[
        "bot_token"]  # a fresh IV each time
    assert cipher.open(sealed) == {"bot_token": "xoxb-1", "user_token": "xoxp-2", "team_id": "T1",
                                   "bot_refresh_token": None}
    assert cipher.encrypt(sealed["bot_token"]) == sealed["bot_token"]  # never double-encrypted
