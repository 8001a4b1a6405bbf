"""`/recast link` over signed HTTP to the real bolt app: answered by a lazy listener (its own task, after
the request's middleware ran), its audit row still comes through the `slack` channel with the workspace
and user as actor, and without the address of the HTTP peer (Slack's servers, not the person)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from bots.slack.app import make_slack_app
from bots.slack.http import mount_slack
from core.db.session import session_scope
from core.system.models import AuditLog
from tests.bots.slack.conftest import BOTH_LOGINS, SlackHTTP
from tests.core.workflow.builders import build_team
from webhooks.app import make_web_app

pytestmark = BOTH_LOGINS


@pytest.fixture
async def slack_on_web(app_deps, fake_slack) -> AsyncIterator[SlackHTTP]:
    """Bolt mounted on the web process's own app, as `recast web` does (its audit middleware first)."""
    client = AsyncWebClient(base_url=fake_slack.base_url)
    bolt = make_slack_app(app_deps, client=client)
    server = TestServer(make_web_app(app_deps, extra_routes=lambda app: mount_slack(app, bolt)), host="127.0.0.1")
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        yield SlackHTTP(str(server.make_url("/slack/events")), http, client)
    await server.close()


async def test_a_lazy_slack_command_audits_the_slack_channel_and_actor(deps, slack_on_web, fake_slack):
    slack = slack_on_web
    async with session_scope(deps.sessionmaker) as s:
        team = await build_team(s)
    team_id, owner = f"T{uuid.uuid4().hex[:10].upper()}", f"U{uuid.uuid4().hex[:10].upper()}"
    fake_slack.add_user(owner, team.owner.email, "Olivia")

    assert await slack.command(owner, f"link {team.org.slug}", team=team_id, channel="C0GENERAL") == ""
    await fake_slack.wait_for("chat.postEphemeral", lambda c: c.params.get("user") == owner)
    async with deps.sessionmaker() as s:
        rows = (
            await s.scalars(
                select(AuditLog).where(
                    AuditLog.action == "slack_workspace_linked", AuditLog.metadata_["team_id"].astext == team_id
                )
            )
        ).all()
    assert [(r.channel, r.ip_address, r.user_agent) for r in rows] == [("slack", None, None)]
    assert rows[0].metadata_["actor"] == f"slack:{team_id}/{owner}"
