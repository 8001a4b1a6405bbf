"""Who hears about a decision, over HTTP: a submitter from Slack gets a DM (a Telegram one still hears on
Telegram), earlier stages' reviewers hear when a later stage sends a version back, the channel hears the final
decision in the draft's thread, and everyone whose queue changed gets a fresh Home tab."""

from __future__ import annotations

import dataclasses
import json
import uuid

from bots.slack import outbox
from core.accounts.models import TeamMember, User
from core.db.session import session_scope
from core.integrations import slack_links
from tests.bots.slack.conftest import BOTH_LOGINS, CHANNEL, TEAM, Agency
from tests.bots.slack.test_approvals_over_http import FORM, buttons, click, submit
from tests.core.workflow.builders import make_draft
from tests.fakes.slack_api import FakeSlack

pytestmark = BOTH_LOGINS


async def slack_submitter(deps, agency: Agency) -> tuple[Agency, str]:
    """A creator who uses Recast only from Slack (no Telegram chat)."""
    slack_id = f"U{uuid.uuid4().hex[:10].upper()}"
    async with session_scope(deps.sessionmaker) as s:
        user = User(email=f"sam-{uuid.uuid4().hex[:8]}@example.com", password_hash="!x", full_name="Sam")
        s.add(user)
        await s.flush()
        s.add(TeamMember(organization_id=agency.team.org.id, user_id=user.id, role="creator", status="active"))
        await slack_links.link_user(session=s, user_id=user.id, slack_user_id=slack_id, team_id=TEAM)
    return Agency(dataclasses.replace(agency.team, creator=user), {**agency.slack_ids, "submitter": slack_id}), slack_id


async def posted(deps, slack, fake_slack: FakeSlack, agency: Agency):
    draft_id = await make_draft(deps, agency.team)
    await outbox.post_approval(deps, slack.client, draft_id)
    (post,) = await fake_slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == CHANNEL)
    return post


def dms_to(fake_slack: FakeSlack, slack_user: str, count: int = 1):
    return fake_slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == slack_user, count=count)


def homes_of(fake_slack: FakeSlack, slack_user: str) -> list[str]:
    return [
        json.dumps(c.params["view"]) for c in fake_slack.calls_to("views.publish") if c.params["user_id"] == slack_user
    ]


async def test_a_slack_submitter_hears_the_final_approval_and_so_does_the_channel(deps, slack, fake_slack, agency):
    agency, sam = await slack_submitter(deps, agency)
    post = await posted(deps, slack, fake_slack, agency)
    manager, client = agency.slack_ids["manager"], agency.slack_ids["client"]

    await slack.send(
        slack.interactive_body(click(manager, "recast_approve", buttons(post)["recast_approve"], "1700000000.000001")),
        FORM,
    )
    (update,) = await fake_slack.wait_for("chat.update")
    # Stage 1 leaves the manager's queue and enters the client's: both Home tabs are redrawn.
    await fake_slack.wait_for("views.publish", lambda c: c.params["user_id"] == client)
    await fake_slack.wait_for("views.publish", lambda c: c.params["user_id"] == manager)
    assert "Nothing is waiting" in homes_of(fake_slack, manager)[-1] and "Stage 2/2" in homes_of(fake_slack, client)[-1]
    assert fake_slack.calls_to("chat.postMessage")[-1].params.get("channel") == CHANNEL  # nobody told mid-way

    await slack.send(
        slack.interactive_body(click(client, "recast_approve", buttons(update)["recast_approve"], "1700000000.000001")),
        FORM,
    )
    (dm,) = await dms_to(fake_slack, sam)
    assert dm.params["text"].startswith("✅ “") and "(LinkedIn post) was approved by Chloe" in dm.params["text"]
    (said,) = await fake_slack.wait_for("chat.postMessage", lambda c: c.params.get("thread_ts") == "1700000000.000001")
    assert said.params["channel"] == CHANNEL and said.params["reply_broadcast"] in (True, "true", "1")
    assert f"was approved by <@{client}>" in said.params["text"] and f"cc <@{sam}>" in said.params["text"]
    await fake_slack.wait_for("views.publish", lambda c: c.params["user_id"] == client, count=2)
    assert "Nothing is waiting" in homes_of(fake_slack, client)[-1]
    assert deps.notifier.sent == []  # Sam has no Telegram chat: Slack is where they hear


async def test_a_later_stage_asking_for_changes_tells_the_earlier_reviewer_and_the_submitter(
    deps, slack, fake_slack, agency, worker
):
    agency, sam = await slack_submitter(deps, agency)
    post = await posted(deps, slack, fake_slack, agency)
    manager, client = agency.slack_ids["manager"], agency.slack_ids["client"]
    await slack.send(
        slack.interactive_body(click(manager, "recast_approve", buttons(post)["recast_approve"], "1")), FORM
    )
    (update,) = await fake_slack.wait_for("chat.update")

    await slack.send(
        slack.interactive_body(click(client, "recast_request_changes", buttons(update)["recast_request_changes"], "1")),
        FORM,
    )
    (modal,) = await fake_slack.wait_for("views.open")
    await slack.send(
        slack.interactive_body(
            submit(client, "recast_changes_modal", modal.params["view"]["private_metadata"], "Mention the Pune meetup")
        ),
        FORM,
    )
    (to_sam,) = await dms_to(fake_slack, sam)
    assert "Changes requested on “" in to_sam.params["text"] and "Mention the Pune meetup" in to_sam.params["text"]
    (to_manager,) = await dms_to(fake_slack, manager)
    assert "Client sign-off (Chloe) asked for changes on “" in to_manager.params["text"]
    assert "which you approved: Mention the Pune meetup" in to_manager.params["text"]
    assert not [c for c in fake_slack.calls_to("chat.postMessage") if c.params.get("channel") == client]


async def test_a_rejection_is_told_to_the_submitter_and_in_the_channel(deps, slack, fake_slack, agency):
    agency, sam = await slack_submitter(deps, agency)
    post = await posted(deps, slack, fake_slack, agency)
    manager = agency.slack_ids["manager"]
    await slack.send(slack.interactive_body(click(manager, "recast_reject", buttons(post)["recast_reject"], "1")), FORM)
    (modal,) = await fake_slack.wait_for("views.open")
    await slack.send(
        slack.interactive_body(
            submit(
                manager,
                "recast_reject_modal",
                modal.params["view"]["private_metadata"],
                "Claims about revenue are not approved",
            )
        ),
        FORM,
    )
    (dm,) = await dms_to(fake_slack, sam)
    assert "was rejected by Manoj. Reason: Claims about revenue" in dm.params["text"]
    (said,) = await fake_slack.wait_for("chat.postMessage", lambda c: c.params.get("thread_ts") == "1700000000.000001")
    assert f"rejected by <@{manager}>" in said.params["text"] and f"cc <@{sam}>" in said.params["text"]
    await fake_slack.wait_for("views.publish", lambda c: c.params["user_id"] == manager)
    assert "Nothing is waiting" in homes_of(fake_slack, manager)[-1]
