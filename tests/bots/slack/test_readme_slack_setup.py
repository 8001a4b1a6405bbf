"""The README's "Slack set-up" section, followed as written: its app manifest parsed and every URL, command,
scope and event in it exercised against the app Recast serves (signed requests, the real bolt app)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from bots.slack.app import BOT_SCOPES
from bots.slack.listeners.commands import HELP
from core.config import Settings
from recast.cli import _parser
from tests.bots.slack.conftest import SIGNING_SECRET, Installer
from tests.fakes.slack_api import FakeSlack

README = Path(__file__).resolve().parents[3] / "README.md"
PLACEHOLDER = "https://recast.example.com"


def section() -> str:
    text = README.read_text()
    match = re.search(r"^## Slack set-up\n(.*?)(?=^## )", text, re.S | re.M)
    assert match, "README has no 'Slack set-up' section"
    return match.group(1)


def manifest() -> dict[str, Any]:
    (block,) = re.findall(r"```json\n(.*?)```", section(), re.S)
    data: dict[str, Any] = json.loads(block)
    return data


async def signed_post(installer: Installer, url: str, body: str, content_type: str) -> tuple[int, str]:
    stamp = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    async with installer.http.post(
        url.replace(PLACEHOLDER, installer.base),
        data=body.encode(),
        headers={
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": f"v0={digest}",
        },
    ) as resp:
        return resp.status, await resp.text()


def test_the_manifest_asks_for_exactly_the_scopes_and_settings_the_app_uses() -> None:
    data = manifest()
    assert set(data["oauth_config"]["scopes"]["bot"]) == set(BOT_SCOPES)
    assert data["features"]["app_home"]["home_tab_enabled"] is True
    assert data["settings"]["interactivity"]["is_enabled"] is True
    assert data["settings"]["socket_mode_enabled"] is False  # Recast is served over HTTP
    urls = [c["url"] for c in data["features"]["slash_commands"]]
    urls += [data["settings"]["interactivity"]["request_url"], data["settings"]["event_subscriptions"]["request_url"]]
    urls += data["oauth_config"]["redirect_urls"]
    assert all(u.startswith(PLACEHOLDER + "/") for u in urls)
    # Every setting it names exists, and the operator CLI command it names parses.
    for name in re.findall(r"`(SLACK_[A-Z_]+|PUBLIC_BASE_URL)`", section()):
        assert name.lower() in Settings.model_fields, name
    args = _parser().parse_args(["org", "invite", "northwind"])
    assert (args.command, args.org_command, args.org) == ("org", "invite", "northwind")
    # And every /recast sub-command it mentions is one the app offers.
    for verb in set(re.findall(r"`/recast (\w[\w-]*)", section())):
        assert f"/recast {verb}" in HELP, verb


async def test_every_url_in_the_manifest_is_served(installer: Installer, fake_slack: FakeSlack) -> None:
    data = manifest()
    team, user = f"T{uuid.uuid4().hex[:10].upper()}", f"U{uuid.uuid4().hex[:10].upper()}"
    fake_slack.add_user(user, f"r-{user.lower()}@example.org", "Reader")

    # The install link the README gives: a redirect to Slack's authorize page with the manifest's scopes,
    # coming back to the manifest's redirect URL.
    match = re.search(re.escape(PLACEHOLDER) + r"(/slack/install)\b", section())
    assert match
    status, location = await installer.authorize("")
    assert status == 302
    query = parse_qs(urlparse(location).query)
    assert set(query["scope"][0].split(",")) == set(data["oauth_config"]["scopes"]["bot"])
    (redirect,) = data["oauth_config"]["redirect_urls"]
    status, page = await installer.callback(query["state"][0], code="bad-code")
    assert status == 401 and urlparse(redirect).path == "/slack/oauth_redirect"  # served: Slack's code refused
    fake_slack.oauth_team_id, fake_slack.oauth_user_id = team, user
    status, page = await installer.install()  # the install itself, as the README says
    assert status == 200, page

    # The slash command, at its URL.
    (command,) = data["features"]["slash_commands"]
    assert command["command"] == "/recast"
    status, body = await signed_post(
        installer,
        command["url"],
        urlencode(
            {
                "team_id": team,
                "channel_id": "C0README",
                "user_id": user,
                "command": command["command"],
                "text": "help",
                "trigger_id": "t",
                "api_app_id": "A0RECAST",
            }
        ),
        "application/x-www-form-urlencoded",
    )
    assert status == 200 and "/recast setup" in body  # the help, in the acknowledgement
    # The events URL answers Slack's url_verification challenge, and every subscribed event is handled.
    events = data["settings"]["event_subscriptions"]
    status, body = await signed_post(
        installer,
        events["request_url"],
        json.dumps({"type": "url_verification", "challenge": "readme-challenge", "token": "legacy"}),
        "application/json",
    )
    assert status == 200 and json.loads(body) == {"challenge": "readme-challenge"}
    for name in [*events["bot_events"], "dance"]:
        kind, _, channel_type = name.partition(".")
        event: dict[str, Any] = {
            "type": kind,
            "user": user,
            "channel": "C0README",
            "tab": "messages",
            "event_ts": str(time.time()),
        }
        if channel_type:
            event["channel_type"] = {"channels": "channel", "groups": "group"}[channel_type]
        status, body = await signed_post(
            installer,
            events["request_url"],
            json.dumps(
                {
                    "type": "event_callback",
                    "team_id": team,
                    "api_app_id": "A0RECAST",
                    "token": "legacy",
                    "event_id": f"Ev{uuid.uuid4().hex[:12].upper()}",
                    "event_time": int(time.time()),
                    "event": event,
                }
            ),
            "application/json",
        )
        # Bolt answers 404 for an event no listener handles, like the made-up "dance".
        assert status == (404 if name == "dance" else 200), (name, body)

    # Interactivity: a click on the set-up checklist is handled at the manifest's URL.
    status, body = await signed_post(
        installer,
        data["settings"]["interactivity"]["request_url"],
        urlencode(
            {
                "payload": json.dumps(
                    {
                        "type": "block_actions",
                        "team": {"id": team},
                        "user": {"id": user, "team_id": team},
                        "api_app_id": "A0RECAST",
                        "token": "legacy",
                        "trigger_id": "t",
                        "container": {"type": "message", "channel_id": "C0README", "message_ts": "1"},
                        "channel": {"id": "C0README"},
                        "actions": [
                            {
                                "type": "button",
                                "action_id": "recast_setup_start",
                                "value": "setup",
                                "block_id": "b",
                                "action_ts": "1",
                            }
                        ],
                    }
                )
            }
        ),
        "application/x-www-form-urlencoded",
    )
    assert status == 200, body
