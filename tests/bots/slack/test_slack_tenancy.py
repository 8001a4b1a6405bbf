"""Row-level security through the Slack door: a request from a workspace acts for the organization the
workspace is linked to, in its own session and in the lazy listeners it starts. Two agencies with client
uploads of their own; a probe command runs the queries a forgetful listener would run (no WHERE) inside
the real bolt app, middleware and HTTP mount."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import text

from bots.slack import make_slack_app, mount_slack
from core.content import service as content
from core.db.session import make_engine, make_sessionmaker, session_scope
from core.deps import CoreDeps
from tests.bots.slack.conftest import CHANNEL, TEAM, Agency, SlackHTTP
from tests.core.workflow.builders import TALK, build_team

PROBE = "/rlsprobe"


async def _visible_uploads(deps: CoreDeps, session: Any | None = None) -> tuple[str, list[str]]:
    async def run(s: Any) -> tuple[str, list[str]]:
        role = await s.scalar(text("SELECT current_user"))
        return str(role), sorted(str(i) for i in (await s.scalars(text("SELECT id FROM content_assets"))).all())

    if session is not None:
        return await run(session)
    async with deps.sessionmaker() as own:  # a lazy listener's own session
        return await run(own)


@pytest.fixture
async def probing_slack(deps, fake_slack) -> AsyncIterator[tuple[SlackHTTP, list[tuple[str, list[str]]]]]:
    lazy_seen: list[tuple[str, list[str]]] = []
    client = AsyncWebClient(base_url=fake_slack.base_url)
    bolt = make_slack_app(deps, client=client)

    async def ack_probe(ack: Any, context: Any) -> None:
        role, visible = await _visible_uploads(deps, context["session"])
        await ack(text=f"role={role} visible={','.join(visible)}")

    async def lazy_probe() -> None:
        lazy_seen.append(await _visible_uploads(deps))

    bolt.command(PROBE)(ack=ack_probe, lazy=[lazy_probe])
    app = web.Application()
    mount_slack(app, bolt)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        yield SlackHTTP(str(server.make_url("/slack/events")), http, client), lazy_seen
    await server.close()


async def _upload(deps: CoreDeps, user_id: uuid.UUID, org_id: uuid.UUID, client_id: uuid.UUID) -> str:
    async with session_scope(deps.sessionmaker) as session:
        asset = await content.ingest_text(
            session=session, store=deps.store, user_id=user_id, organization_id=org_id, text=TALK
        )
        asset.client_account_id = client_id
        return str(asset.id)


@pytest.mark.parametrize("login", ["tables' owner", "RLS-bound login role"])
async def test_a_workspaces_request_and_its_lazy_work_see_only_its_organizations_rows(
    deps, agency: Agency, probing_slack, login: str, slack_db_url: str, login_url: Any
) -> None:
    slack, lazy_seen = probing_slack
    async with session_scope(deps.sessionmaker) as s:
        rival = await build_team(s)  # another agency on the same Recast, in no workspace of ours
    ours = {await _upload(deps, agency.team.creator.id, agency.team.org.id, agency.team.client.id) for _ in range(2)}
    theirs = await _upload(deps, rival.creator.id, rival.org.id, rival.client.id)
    owner_sessionmaker = deps.sessionmaker
    if login != "tables' owner":  # production: the workspace lookup must ask for maintenance by name
        engine = make_engine(login_url(slack_db_url), pool_size=2)
        deps.sessionmaker = make_sessionmaker(engine)

    body = urlencode(
        {
            "token": "legacy",
            "team_id": TEAM,
            "channel_id": CHANNEL,
            "user_id": agency.slack_ids["manager"],
            "command": PROBE,
            "text": "",
            "trigger_id": f"trig-{uuid.uuid4().hex}",
            "api_app_id": "A0RECAST",
            "response_url": "https://hooks.slack.invalid/commands/1",
        }
    )
    resp = await slack.send(body, "application/x-www-form-urlencoded")
    assert resp.status == 200
    for _ in range(100):
        if lazy_seen:
            break
        await asyncio.sleep(0.05)

    async with owner_sessionmaker() as owner:  # the tables' owner sees both agencies' uploads
        everything = set((await _visible_uploads(deps, owner))[1])
    if login != "tables' owner":
        await engine.dispose()
    assert ours | {theirs} <= everything
    ack_text = await _ack_text(resp)
    role, visible = (part.split("=", 1)[1] for part in ack_text.split(" "))
    assert role == "recast_app"
    assert ours <= set(visible.split(",")) and theirs not in visible
    assert lazy_seen and lazy_seen[0][0] == "recast_app"
    assert ours <= set(lazy_seen[0][1]) and theirs not in lazy_seen[0][1]


async def _ack_text(resp: aiohttp.ClientResponse) -> str:
    import json

    raw = await resp.text()
    return str(json.loads(raw).get("text", "")) if raw.startswith("{") else raw
