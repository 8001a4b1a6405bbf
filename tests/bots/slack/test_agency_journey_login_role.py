"""A whole agency journey through Slack, with the bolt app, the web app and the worker connected as the
RLS-bound login role production uses (a session that names no organization sees no tenant's rows and writes
none): install → a teammate → a client channel → a two-stage auto-publishing workflow → the client's LinkedIn
→ submit → stage 1 → changes asked at stage 2 → the new version through stage 1 again → QA → final approval →
published on LinkedIn, and said so. Every step is a signed Slack request or event to the real bolt app (or a
browser on LinkedIn's consent page); what the test learns, it learns from what Slack was sent, and the tables'
owner checks the rows at the end."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from pydantic import SecretStr
from sqlalchemy import select

from core.distribution.models import PostStatus, ScheduledPost
from core.workflow.models import ApprovalRequest, ApprovalWorkflow, QARequest
from recast.commands import with_slack_notices
from tasks.registry import load_all
from tests.bots.slack.conftest import LOGIN, Installer, SlackHTTP, block_action, view_submission
from tests.core.workflow.builders import TALK
from tests.fakes.linkedin_api import FakeLinkedIn
from tests.fakes.slack_api import Call, FakeSlack
from webhooks.app import make_web_app

WAIT = 180.0


def new_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10].upper()}"


def buttons(call: Call) -> dict[str, str]:
    actions = [b for b in call.params.get("blocks") or [] if b["type"] == "actions"]
    return {e["action_id"]: e["value"] for e in actions[0]["elements"]} if actions else {}


def text_value(text: str | None) -> dict[str, Any]:
    return {"value": {"type": "plain_text_input", "value": text}}


def select_value(value: str) -> dict[str, Any]:
    return {"value": {"type": "static_select", "selected_option": {"value": value}}}


@pytest.fixture
async def web(oauth_deps: Any, oauth_app_deps: Any, linkedin: FakeLinkedIn) -> AsyncIterator[str]:
    """The web app (LinkedIn's OAuth callback) on the login role too, LinkedIn pointed at the fake, and the
    outbox's Slack messages sent with the workspace's installed token, as in `recast serve`."""
    load_all()
    server = TestServer(make_web_app(oauth_app_deps), host="127.0.0.1")
    await server.start_server()
    oauth_deps.settings = oauth_deps.settings.model_copy(
        update={
            "linkedin_client_id": linkedin.client_id,
            "linkedin_client_secret": SecretStr(linkedin.client_secret),
            "linkedin_api_base": linkedin.base_url,
            "linkedin_oauth_base": f"{linkedin.base_url}/oauth/v2",
            "platform_timeout_s": 2.0,
            "public_base_url": str(server.make_url("")).rstrip("/"),
        }
    )
    with_slack_notices(oauth_app_deps)
    yield str(server.make_url(""))
    await server.close()


class Workspace:
    """One installed workspace's people and channel, speaking to the app as Slack does."""

    def __init__(self, slack: SlackHTTP, fake: FakeSlack, team: str, channel: str) -> None:
        self.slack, self.fake, self.team, self.channel = slack, fake, team, channel

    async def command(self, user: str, text: str) -> str:
        return await self.slack.command(user, text, team=self.team, channel=self.channel)

    async def click(self, user: str, action_id: str, value: str, message_ts: str) -> None:
        status, _ = await self.slack.interact(
            block_action(
                team=self.team,
                channel=self.channel,
                user=user,
                action_id=action_id,
                value=value,
                message_ts=message_ts,
            )
        )
        assert status == 200

    async def home_click(self, user: str, action_id: str, value: str) -> None:
        status, _ = await self.slack.interact(
            block_action(team=self.team, channel=None, user=user, action_id=action_id, value=value)
        )
        assert status == 200

    async def submit_modal(self, user: str, opened: Call, values: dict[str, Any]) -> str:
        view = opened.params["view"]
        status, body = await self.slack.interact(
            view_submission(
                team=self.team,
                user=user,
                callback_id=view["callback_id"],
                meta=view["private_metadata"],
                values=values,
            )
        )
        assert status == 200
        return body

    async def modal(self, count: int) -> Call:
        return (await self.fake.wait_for("views.open", count=count, timeout=WAIT))[count - 1]

    async def ephemeral(self, user: str, needle: str, count: int = 1) -> Call:
        calls = await self.fake.wait_for(
            "chat.postEphemeral",
            lambda c: c.params.get("user") == user and needle in c.params.get("text", ""),
            count=count,
            timeout=WAIT,
        )
        return calls[count - 1]

    async def dm(self, user: str, needle: str) -> Call:
        (call, *_) = await self.fake.wait_for(
            "chat.postMessage",
            lambda c: c.params.get("channel") == user and needle in c.params.get("text", ""),
            timeout=WAIT,
        )
        return call

    async def in_thread(self, ts: str, needle: str, *, with_buttons: bool = False) -> Call:
        (call, *_) = await self.fake.wait_for(
            "chat.postMessage",
            lambda c: (
                c.params.get("thread_ts") == ts
                and needle in json.dumps(c.params, ensure_ascii=False)
                and (not with_buttons or bool(buttons(c)))
            ),
            timeout=WAIT,
        )
        return call

    async def redrawn(self, ts: str, needle: str) -> Call:
        (call, *_) = await self.fake.wait_for(
            "chat.update",
            lambda c: c.params.get("ts") == ts and needle in json.dumps(c.params.get("blocks") or []),
            timeout=WAIT,
        )
        return call


@pytest.mark.parametrize("slack_login", [LOGIN])
async def test_an_agency_goes_from_install_to_a_qa_checked_approval_published_on_linkedin_on_the_login_role(
    web: str,
    installer: Installer,
    fake_slack: FakeSlack,
    linkedin: FakeLinkedIn,
    oauth_worker: Any,
    real_sessionmaker: Any,
    oauth_app_deps: Any,
) -> None:
    assert oauth_app_deps.sessionmaker is not real_sessionmaker  # the app is on the login role
    team, channel = new_id("T"), new_id("C")
    founder, editor = new_id("U"), new_id("U")
    fake_slack.oauth_team_id, fake_slack.oauth_user_id = team, founder
    fake_slack.add_user(founder, f"farah-{founder.lower()}@example.org", "Farah Khan")
    fake_slack.add_user(editor, f"eli-{editor.lower()}@example.org", "Eli Das")
    ws = Workspace(installer.slack, fake_slack, team, channel)

    # Install: a new agency owned by the installer (the installation store and onboarding ask for maintenance).
    status, page = await installer.install()
    assert status == 200 and "Your agency OAuth Workspace is ready and you are its owner" in page

    # A teammate, then the client's channel named from the set-up checklist's modal.
    await ws.command(founder, f"member <@{editor}|eli> manager")
    await ws.ephemeral(founder, f"<@{editor}> is now a team manager in Recast")
    await ws.command(founder, "setup")
    await ws.ephemeral(founder, "Recast set-up")
    await ws.click(founder, "recast_setup_channel", "setup", "1")
    assert await ws.submit_modal(founder, await ws.modal(1), {"client": text_value("Acme Foods")}) == ""
    named = await ws.ephemeral(founder, "Recast set-up", count=2)  # the checklist again, the channel step done
    assert "Drafts for *Acme Foods* (a new client account)" in json.dumps(named.params["blocks"])

    # Two stages: the founder edits, the new manager signs off; publishing is automatic on approval.
    assert await ws.command(founder, "workflow") == ""
    opened = await ws.modal(2)
    assert opened.params["view"]["callback_id"] == "recast_workflow_modal"
    workflow = {
        "name": text_value("Acme two-step"),
        "stage1_name": text_value("Edit"),
        "stage1_users": {"value": {"type": "multi_users_select", "selected_users": [founder]}},
        "stage1_role": {"value": {"type": "static_select", "selected_option": None}},
        "stage2_name": text_value("Sign-off"),
        "stage2_users": {"value": {"type": "multi_users_select", "selected_users": [editor]}},
        "stage2_role": {"value": {"type": "static_select", "selected_option": None}},
        "stage3_name": text_value(None),
        "auto_publish": {"value": {"type": "checkboxes", "selected_options": [{"value": "yes"}]}},
    }
    assert await ws.submit_modal(founder, opened, workflow) == ""
    await ws.ephemeral(founder, "Saved the workflow")

    # The client's LinkedIn, connected from the channel: the sign-in button, LinkedIn's consent, our callback.
    await ws.command(founder, "connect linkedin")
    offer = await ws.ephemeral(founder, "Connect an account *Acme Foods* publishes to")
    (button,) = next(b for b in offer.params["blocks"] if b["type"] == "actions")["elements"]
    async with aiohttp.ClientSession() as browser, browser.get(str(button["url"])) as page:
        assert page.status == 200 and "LinkedIn connected ✅" in await page.text()
    (connected, *_) = await fake_slack.wait_for(
        "chat.postMessage", lambda c: "is connected for Acme Foods" in c.params.get("text", ""), timeout=WAIT
    )
    assert connected.params["channel"] == channel and connected.token == "xoxb-installed"

    # Submit: the worker turns the text into drafts posted in the channel, at stage 1 of 2.
    assert "working on it" in await ws.command(founder, f"submit {TALK}")
    (post, *_) = await fake_slack.wait_for(
        "chat.postMessage",
        lambda c: (
            c.params.get("channel") == channel
            and not c.params.get("thread_ts")
            and c.params.get("text", "").startswith("Draft for review: LinkedIn post")
        ),
        timeout=WAIT,
    )
    assert post.token == "xoxb-installed" and "Stage 1/2" in json.dumps(post.params["blocks"])
    ts = post.response["ts"]
    request_id = uuid.UUID(buttons(post)["recast_approve"].split(":")[0])

    # Stage 1 approved by the founder; the message moves to stage 2.
    await ws.click(founder, "recast_approve", buttons(post)["recast_approve"], ts)
    at_two = await ws.redrawn(ts, "Stage 2/2")

    # The sign-off asks for changes: a worker writes version 2, posted in the thread, back at stage 1.
    await ws.click(editor, "recast_request_changes", buttons(at_two)["recast_request_changes"], ts)
    changes = await ws.modal(3)
    assert changes.params["view"]["callback_id"] == "recast_changes_modal"
    feedback = "Open with a question and mention the Pune meetup"
    await ws.submit_modal(editor, changes, {"feedback": {"text": {"type": "plain_text_input", "value": feedback}}})
    version_two = await ws.in_thread(ts, "Pune meetup", with_buttons=True)
    assert buttons(version_two)["recast_approve"] == f"{request_id}:1:1"
    await ws.dm(founder, feedback)  # the submitter hears what was asked

    # Version 2 through stage 1 again, then sent to QA by the founder.
    v2_ts = version_two.response["ts"]
    await ws.click(founder, "recast_approve", buttons(version_two)["recast_approve"], v2_ts)
    v2_at_two = await ws.redrawn(v2_ts, "Stage 2/2")
    await ws.click(founder, "recast_send_to_qa", buttons(v2_at_two)["recast_send_to_qa"], v2_ts)
    qa_modal = await ws.modal(4)
    assert qa_modal.params["view"]["callback_id"] == "recast_qa_modal"
    await ws.submit_modal(
        founder,
        qa_modal,
        {
            "qa_type": select_value("brand_safety"),
            "priority": select_value("high"),
            "note": {"value": {"type": "plain_text_input", "value": "Check the meetup date"}},
        },
    )
    await ws.dm(founder, "to QA (Brand safety, high priority")

    # The other manager finds it in the QA queue of their Home tab and passes it.
    await installer.slack.event(
        {"type": "app_home_opened", "user": editor, "tab": "home", "channel": "D0HOME"}, team=team
    )
    (home, *_) = await fake_slack.wait_for(
        "views.publish",
        lambda c: c.params["user_id"] == editor and "recast_qa_pass" in json.dumps(c.params["view"]),
        timeout=WAIT,
    )
    (qa_id,) = {
        e["value"]
        for b in home.params["view"]["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "recast_qa_pass"
    }
    await ws.home_click(editor, "recast_qa_pass", qa_id)
    passed = await ws.dm(founder, "✅ QA passed: Brand safety of “")
    assert passed.params["text"].endswith("by Eli Das.")

    # The final approval publishes at once, and the thread is told so only as it happens.
    await ws.click(editor, "recast_approve", buttons(v2_at_two)["recast_approve"], v2_ts)
    said = await ws.in_thread(ts, "was approved by")
    assert said.params["text"].endswith(f"was approved by <@{editor}> and is queued for publishing. cc <@{founder}>")
    await ws.in_thread(ts, "Publishing on LinkedIn")
    published = await ws.in_thread(ts, "Published on LinkedIn")
    await ws.dm(founder, "approved")
    await oauth_worker.drain()
    assert len(linkedin.posts) == 1

    async with real_sessionmaker() as s:  # the tables' owner: what was stored on the way
        request = await s.get_one(ApprovalRequest, request_id)
        (post_row,) = (
            await s.scalars(
                select(ScheduledPost).where(ScheduledPost.generated_content_id == request.generated_content_id)
            )
        ).all()
        flow = await s.get_one(ApprovalWorkflow, request.workflow_id)
        (qa_row,) = (
            await s.scalars(select(QARequest).where(QARequest.generated_content_id == request.generated_content_id))
        ).all()
    assert (request.status, request.revision_count, request.feedback) == ("approved", 1, feedback)
    assert (flow.name, flow.auto_publish, len(flow.stages)) == ("Acme two-step", True, 2)
    assert (str(qa_row.id), qa_row.status, qa_row.qa_type) == (qa_id, "passed", "brand_safety")
    assert post_row.status == PostStatus.PUBLISHED
    assert published.params["text"].endswith(str(post_row.platform_post_url))
