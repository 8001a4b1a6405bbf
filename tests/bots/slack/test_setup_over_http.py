"""A new agency starts from Slack: installing the app, then `/recast setup` and its buttons, through signed
requests to the real bolt app, the local Slack Web API, a real database and a real worker. The end-to-end
test never touches the database: everything it learns, it learns from what Slack was sent."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.bots.slack.conftest import BOTH_LOGINS, Installer, SlackHTTP, block_action, view_submission
from tests.fakes.slack_api import Call, FakeSlack

pytestmark = BOTH_LOGINS

WAIT = 180.0


def new_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10].upper()}"


def setup_buttons(call: Call) -> dict[str, str]:
    """action_id → step text of the checklist's buttons."""
    return {
        b["accessory"]["action_id"]: b["text"]["text"]
        for b in call.params.get("blocks") or []
        if b.get("accessory", {}).get("type") == "button"
    }


def checklist_text(call: Call) -> str:
    return json.dumps(call.params.get("blocks") or [])


async def checklist(fake: FakeSlack, user: str, count: int) -> Call:
    calls = await fake.wait_for(
        "chat.postEphemeral",
        lambda c: c.params.get("user") == user and "Recast set-up" in c.params.get("text", ""),
        count=count,
        timeout=WAIT,
    )
    return calls[count - 1]


async def click(slack: SlackHTTP, team: str, channel: str, user: str, action_id: str, value: str = "setup") -> None:
    status, _ = await slack.interact(
        block_action(team=team, channel=channel, user=user, action_id=action_id, value=value, ephemeral=True)
    )
    assert status == 200


def review_posts(channel: str):
    return lambda c: (
        c.params.get("channel") == channel
        and c.params.get("blocks")
        and not c.params.get("thread_ts")
        and "Draft for review" in c.params.get("text", "")
    )


def buttons(call: Call) -> dict[str, str]:
    actions = [b for b in call.params["blocks"] if b["type"] == "actions"]
    return {e["action_id"]: e["value"] for e in actions[0]["elements"]} if actions else {}


async def test_a_new_agency_goes_from_install_to_its_first_approved_draft_with_slack_requests_only(
    installer: Installer, fake_slack: FakeSlack, oauth_worker: Any
) -> None:
    team, founder, channel = new_id("T"), new_id("U"), new_id("C")
    fake_slack.oauth_team_id, fake_slack.oauth_user_id = team, founder
    fake_slack.add_user(founder, f"farah-{founder.lower()}@example.org", "Farah Khan")
    slack = installer.slack

    # 1. Install: a new agency named after the workspace, owned by the installer.
    status, page = await installer.install()
    assert status == 200 and "Your agency OAuth Workspace is ready and you are its owner" in page

    # 2. /recast setup in the client's channel: linked; the next step has a button.
    assert await slack.command(founder, "setup", team=team, channel=channel) == ""
    first = await checklist(fake_slack, founder, 1)
    assert first.token == "xoxb-installed"
    assert "Linked* to the organization *OAuth Workspace* (you are its owner)" in checklist_text(first)
    assert set(setup_buttons(first)) == {"recast_setup_channel", "recast_setup_workflow"}

    # 3. Name the client: a modal, then the channel reviews that client's drafts.
    await click(slack, team, channel, founder, "recast_setup_channel")
    (modal,) = await fake_slack.wait_for("views.open", timeout=WAIT)
    view = modal.params["view"]
    assert view["callback_id"] == "recast_setup_channel_modal" and view["private_metadata"] == channel
    status, body = await slack.interact(
        view_submission(
            team=team,
            user=founder,
            callback_id=view["callback_id"],
            meta=view["private_metadata"],
            values={"client": {"value": {"type": "plain_text_input", "value": "Acme Foods"}}},
        )
    )
    assert (status, body) == (200, "")
    second = await checklist(fake_slack, founder, 2)
    assert "Drafts for *Acme Foods* (a new client account) are now reviewed in this channel" in checklist_text(second)
    assert set(setup_buttons(second)) == {"recast_setup_workflow"}

    # 4. The default one-stage workflow, confirmed.
    await click(slack, team, channel, founder, "recast_setup_workflow")
    third = await checklist(fake_slack, founder, 3)
    assert "Saved the workflow *Approvals*: one stage" in checklist_text(third)
    assert set(setup_buttons(third)) == {"recast_setup_test"}

    # 5. A test submission: the worker turns the sample into drafts posted in the channel for review.
    await click(slack, team, channel, founder, "recast_setup_test")
    (got,) = await fake_slack.wait_for(
        "chat.postEphemeral",
        lambda c: c.params.get("user") == founder and c.params.get("text", "").startswith("Got “"),
        timeout=WAIT,
    )
    assert got.params["channel"] == channel
    post, *_ = await fake_slack.wait_for("chat.postMessage", review_posts(channel), timeout=WAIT)
    assert post.token == "xoxb-installed" and "Stage 1/1" in json.dumps(post.params["blocks"])

    # 6. The founder approves it; the message says so and offers no more buttons.
    status, _ = await slack.interact(
        block_action(
            team=team,
            channel=channel,
            user=founder,
            action_id="recast_approve",
            value=buttons(post)["recast_approve"],
            message_ts="1700000000.000001",
        )
    )
    assert status == 200
    (update,) = await fake_slack.wait_for("chat.update", timeout=WAIT)
    assert "Approved" in json.dumps(update.params["blocks"]) and buttons(update) == {}
    # The submitter (the founder, from Slack) hears it in a DM, and the channel in the draft's thread.
    (dm,) = await fake_slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == founder, timeout=WAIT)
    assert "was approved by Farah Khan" in dm.params["text"]
    await fake_slack.wait_for(
        "chat.postMessage",
        lambda c: (
            c.params.get("channel") == channel
            and c.params.get("thread_ts")
            and "was approved by" in c.params.get("text", "")
        ),
        timeout=WAIT,
    )
    await oauth_worker.drain()

    # 7. The checklist now shows every step done.
    await slack.command(founder, "setup", team=team, channel=channel)
    last = await checklist(fake_slack, founder, 4)
    assert setup_buttons(last) == {} and "First approval:* 1 draft(s) approved" in checklist_text(last)
    assert last.params["text"] == "Recast set-up: 5 of 5 steps done"


async def test_in_single_workspace_mode_a_slack_admin_starts_the_agency_from_setup(
    slack: SlackHTTP, fake_slack: FakeSlack
) -> None:
    team, admin, member, channel = new_id("T"), new_id("U"), new_id("U"), new_id("C")
    fake_slack.add_user(admin, f"ada-{admin.lower()}@example.org", "Ada", is_admin=True)
    fake_slack.add_user(member, f"mo-{member.lower()}@example.org", "Mo")

    # Someone who isn't a Slack admin is told who can start it; no button they couldn't use.
    await slack.command(member, "setup", team=team, channel=channel)
    refused = await checklist(fake_slack, member, 1)
    assert setup_buttons(refused) == {} and "A Slack workspace admin can start an agency" in checklist_text(refused)
    assert "ask your" not in checklist_text(refused).lower()
    # Nor do they get one by crafting the click.
    await click(slack, team, channel, member, "recast_setup_start")
    (note,) = await fake_slack.wait_for(
        "chat.postEphemeral",
        lambda c: c.params.get("user") == member and "Only a Slack admin" in c.params.get("text", ""),
    )

    await slack.command(admin, "setup", team=team, channel=channel)
    offer = await checklist(fake_slack, admin, 1)
    assert set(setup_buttons(offer)) == {"recast_setup_start"} and "*Recast Test*" in checklist_text(offer)
    await click(slack, team, channel, admin, "recast_setup_start")
    started = await checklist(fake_slack, admin, 2)
    assert "*Recast Test* is ready and you are its owner" in checklist_text(started)
    assert "(you are its owner)" in checklist_text(started)

    # A second start (a double click, another admin) changes nothing and says why.
    await click(slack, team, channel, admin, "recast_setup_start")
    (again,) = await fake_slack.wait_for(
        "chat.postEphemeral",
        lambda c: c.params.get("user") == admin and "already linked to *Recast Test*" in c.params.get("text", ""),
    )

    # The member is now in a linked workspace whose owner can add them: that is what they are told.
    await slack.command(member, "approvals", team=team, channel=channel)
    (told,) = await fake_slack.wait_for(
        "chat.postEphemeral",
        lambda c: c.params.get("user") == member and "don't know your Slack account" in c.params.get("text", ""),
    )
    assert "/recast member" in told.params["text"]


@pytest.mark.parametrize(
    "verb",
    ["submit some text to repurpose", "channel Acme", "approvals", "workflow", "invite", "member <@U0SOMEONE> admin"],
)
async def test_commands_in_an_unlinked_workspace_point_to_setup(
    slack: SlackHTTP, fake_slack: FakeSlack, verb: str
) -> None:
    team, user = new_id("T"), new_id("U")
    fake_slack.add_user(user, f"x-{user.lower()}@example.org", "X")
    ack = await slack.command(user, verb, team=team)
    if ack:  # submit answers in the acknowledgement itself
        assert "/recast setup" in ack and "working on it" not in ack
    else:
        (note,) = await fake_slack.wait_for("chat.postEphemeral", lambda c: c.params.get("user") == user)
        assert "/recast setup" in note.params["text"]


async def test_the_checklist_offers_each_person_only_the_buttons_they_can_use(slack, fake_slack, agency) -> None:
    from tests.bots.slack.conftest import CHANNEL, TEAM

    manager, owner = agency.slack_ids["manager"], agency.slack_ids["owner"]
    await slack.command(manager, "setup", team=TEAM, channel="C0ELSEWHERE")
    elsewhere = await checklist(fake_slack, manager, 1)
    assert setup_buttons(elsewhere) == {}  # naming a client is for owners and admins; no test outside a client channel
    assert "an owner or admin names the client" in checklist_text(elsewhere)
    text = checklist_text(elsewhere)
    assert "(you are its manager)" in text and "Approval workflow* is set" in text

    await slack.command(owner, "setup", team=TEAM, channel="C0ELSEWHERE")
    assert set(setup_buttons(await checklist(fake_slack, owner, 1))) == {"recast_setup_channel"}
    await slack.command(manager, "setup", team=TEAM, channel=CHANNEL)
    in_client_channel = await checklist(fake_slack, manager, 2)
    assert "this channel reviews *Acme Foods*'s drafts" in checklist_text(in_client_channel)
    assert set(setup_buttons(in_client_channel)) == {"recast_setup_test"}
