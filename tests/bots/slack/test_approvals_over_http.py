"""The real bolt app over HTTP with signed requests, a local Slack Web API and a real database."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from urllib.parse import urlencode

from sqlalchemy import func, select

from bots.slack import outbox
from core.notify.ports import ChatRef
from core.repurposing.models import GeneratedContent
from core.system.models import AuditLog
from core.work.models import UnitState, WorkUnit
from core.workflow.models import ApprovalRequest, Revision
from tests.bots.slack.conftest import BOTH_LOGINS, CHANNEL, TEAM
from tests.core.workflow.builders import make_draft

pytestmark = BOTH_LOGINS

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def click(slack_user: str, action_id: str, value: str, message_ts: str) -> dict:
    return {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "recast"},
        "api_app_id": "A0RECAST",
        "user": {"id": slack_user, "team_id": TEAM},
        "token": "legacy",
        "trigger_id": f"trig-{uuid.uuid4().hex}",
        "container": {"type": "message", "channel_id": CHANNEL, "message_ts": message_ts},
        "channel": {"id": CHANNEL, "name": "acme"},
        "message": {"ts": message_ts, "type": "message"},
        "response_url": "https://hooks.slack.invalid/actions/1",
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "recast_review",
                "value": value,
                "action_ts": str(time.time()),
            }
        ],
    }


def submit(slack_user: str, callback_id: str, value: str, text: str) -> dict:
    return {
        "type": "view_submission",
        "team": {"id": TEAM},
        "api_app_id": "A0RECAST",
        "token": "legacy",
        "user": {"id": slack_user, "team_id": TEAM},
        "trigger_id": "trig-view",
        "view": {
            "id": "V1",
            "type": "modal",
            "team_id": TEAM,
            "callback_id": callback_id,
            "private_metadata": value,
            "app_id": "A0RECAST",
            "state": {"values": {"feedback": {"text": {"type": "plain_text_input", "value": text}}}},
        },
    }


def buttons(call) -> dict[str, str]:
    actions = [b for b in call.params["blocks"] if b["type"] == "actions"]
    return {e["action_id"]: e["value"] for e in actions[0]["elements"]} if actions else {}


async def _posted(deps, slack, fake_slack, agency):
    draft_id = await make_draft(deps, agency.team)
    request = await outbox.post_approval(deps, slack.client, draft_id)
    (post,) = await fake_slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == CHANNEL)
    return draft_id, request, post


async def _request(deps, request_id) -> ApprovalRequest:
    async with deps.sessionmaker() as s:
        return await s.get_one(ApprovalRequest, request_id)


async def test_two_stage_workflow_from_submission_to_final_approval(deps, slack, fake_slack, agency):
    draft_id, request, post = await _posted(deps, slack, fake_slack, agency)
    assert "Stage 1/2" in json.dumps(post.params["blocks"]) and post.token == "xoxb-test-token"
    value = buttons(post)["recast_approve"]
    review = {"recast_approve", "recast_request_changes", "recast_reject", "recast_send_to_qa", "recast_why"}
    assert set(buttons(post)) == review

    resp = await slack.send(
        slack.interactive_body(click(agency.slack_ids["manager"], "recast_approve", value, post.params and "1")), FORM
    )
    assert resp.status == 200
    (update,) = await fake_slack.wait_for("chat.update")
    assert "Stage 2/2" in json.dumps(update.params["blocks"]) and "Client sign-off" in json.dumps(update.params)
    assert (await _request(deps, request.id)).current_stage == 2

    second = buttons(update)["recast_approve"]
    resp = await slack.send(
        slack.interactive_body(click(agency.slack_ids["client"], "recast_approve", second, "1")), FORM
    )
    assert resp.status == 200
    updates = await fake_slack.wait_for("chat.update", count=2)
    assert "Approved" in json.dumps(updates[1].params["blocks"]) and buttons(updates[1]) == {}
    row = await _request(deps, request.id)
    assert (row.status, row.reviewed_by) == ("approved", agency.team.client_reviewer.id)
    sent = deps.notifier.sent
    assert sent and sent[-1][0] == ChatRef("telegram", agency.team.creator_chat) and "approved" in sent[-1][1].text


async def test_change_request_regenerates_the_draft_and_posts_it_in_the_thread(deps, slack, fake_slack, agency, worker):
    draft_id, request, post = await _posted(deps, slack, fake_slack, agency)
    async with deps.sessionmaker() as s:
        before = (await s.get_one(GeneratedContent, draft_id)).content_text
    value = buttons(post)["recast_request_changes"]
    await slack.send(
        slack.interactive_body(click(agency.slack_ids["manager"], "recast_request_changes", value, "1")), FORM
    )
    (modal,) = await fake_slack.wait_for("views.open")
    assert modal.params["view"]["callback_id"] == "recast_changes_modal"

    resp = await slack.send(
        slack.interactive_body(
            submit(
                agency.slack_ids["manager"],
                "recast_changes_modal",
                modal.params["view"]["private_metadata"],
                "Make it shorter and mention the Pune meetup",
            )
        ),
        FORM,
    )
    assert resp.status == 200
    posts = await fake_slack.wait_for("chat.postMessage", lambda c: c.params.get("thread_ts") is not None)
    in_thread = posts[0]
    assert in_thread.params["channel"] == CHANNEL and in_thread.params["thread_ts"] == "1700000000.000001"
    assert "Pune meetup" in json.dumps(in_thread.params["blocks"])
    assert buttons(in_thread)["recast_approve"].endswith(":1:1")
    async with deps.sessionmaker() as s:
        draft = await s.get_one(GeneratedContent, draft_id)
        revisions = (await s.scalars(select(Revision).where(Revision.approval_request_id == request.id))).all()
    row = await _request(deps, request.id)
    assert draft.content_text != before and (row.status, row.revision_count) == ("pending", 1)
    assert [(r.feedback, r.assigned_to) for r in revisions] == [
        ("Make it shorter and mention the Pune meetup", agency.team.creator.id)
    ]
    assert any("Pune meetup" in m.text for _, m in deps.notifier.sent)
    await worker.drain()
    async with deps.sessionmaker() as s:
        # The rewrite ran in a worker (a durable `slack.revise` unit), not in the web process.
        states = (
            await s.scalars(
                select(WorkUnit.state).where(
                    WorkUnit.kind == "slack.revise", WorkUnit.payload["request_id"].astext == str(request.id)
                )
            )
        ).all()
    assert states == [UnitState.SUCCEEDED]


async def test_rejection_records_the_reason_and_tells_the_creator(deps, slack, fake_slack, agency):
    _, request, post = await _posted(deps, slack, fake_slack, agency)
    await slack.send(
        slack.interactive_body(
            click(agency.slack_ids["manager"], "recast_reject", buttons(post)["recast_reject"], "1")
        ),
        FORM,
    )
    (modal,) = await fake_slack.wait_for("views.open")
    await slack.send(
        slack.interactive_body(
            submit(
                agency.slack_ids["manager"],
                "recast_reject_modal",
                modal.params["view"]["private_metadata"],
                "Claims about revenue are not approved",
            )
        ),
        FORM,
    )
    (update,) = await fake_slack.wait_for("chat.update")
    assert "Rejected" in json.dumps(update.params["blocks"]) and buttons(update) == {}
    row = await _request(deps, request.id)
    assert (row.status, row.feedback) == ("rejected", "Claims about revenue are not approved")
    assert "Claims about revenue" in deps.notifier.sent[-1][1].text


async def test_an_unauthorised_click_gets_an_ephemeral_explanation_and_changes_nothing(deps, slack, fake_slack, agency):
    _, request, post = await _posted(deps, slack, fake_slack, agency)
    for who in ("outsider", "client"):  # the client reviewer approves stage 2, not stage 1
        await slack.send(
            slack.interactive_body(
                click(agency.slack_ids[who], "recast_approve", buttons(post)["recast_approve"], "1")
            ),
            FORM,
        )
    notes = await fake_slack.wait_for("chat.postEphemeral", count=2)
    assert {n.params["user"] for n in notes} == {agency.slack_ids["outsider"], agency.slack_ids["client"]}
    assert all("not an approver" in n.params["text"] for n in notes)
    row = await _request(deps, request.id)
    assert (row.status, row.current_stage, row.reviewed_by) == ("pending", 1, None)
    assert fake_slack.calls_to("chat.update") == []


async def test_a_concurrent_double_click_advances_the_stage_once(deps, slack, fake_slack, agency):
    _, request, post = await _posted(deps, slack, fake_slack, agency)
    body = slack.interactive_body(
        click(agency.slack_ids["manager"], "recast_approve", buttons(post)["recast_approve"], "1")
    )
    # The same approver double-clicks: two signed requests at once, each with its own trigger id.
    other = slack.interactive_body(
        click(agency.slack_ids["manager"], "recast_approve", buttons(post)["recast_approve"], "1")
    )
    statuses = await asyncio.gather(slack.send(body, FORM), slack.send(other, FORM))
    assert [r.status for r in statuses] == [200, 200]
    (update,) = await fake_slack.wait_for("chat.update")
    (note,) = await fake_slack.wait_for("chat.postEphemeral")
    assert "already past stage 1 (Manager review); it is waiting at stage 2/2, Client sign-off" in note.params["text"]
    row = await _request(deps, request.id)
    async with deps.sessionmaker() as s:
        advances = await s.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.resource_id == request.id, AuditLog.action == "approval_stage_approved")
        )
    assert (row.current_stage, advances) == (2, 1)
    assert len(fake_slack.calls_to("chat.update")) == 1


async def test_a_replayed_request_does_not_apply_twice(deps, slack, fake_slack, agency):
    _, request, post = await _posted(deps, slack, fake_slack, agency)
    body = slack.interactive_body(
        click(agency.slack_ids["manager"], "recast_approve", buttons(post)["recast_approve"], "1")
    )
    assert (await slack.send(body, FORM)).status == 200
    await fake_slack.wait_for("chat.update")
    assert (
        await slack.send(body, FORM, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    ).status == 200
    (note,) = await fake_slack.wait_for("chat.postEphemeral")
    assert "already past stage 1 (Manager review); it is waiting at stage 2/2, Client sign-off" in note.params["text"]
    row = await _request(deps, request.id)
    assert (row.current_stage, row.status) == (2, "pending")
    assert len(fake_slack.calls_to("chat.update")) == 1


async def test_a_stale_timestamp_is_refused_with_401_before_anything_runs(deps, slack, fake_slack, agency):
    _, request, post = await _posted(deps, slack, fake_slack, agency)
    body = slack.interactive_body(
        click(agency.slack_ids["manager"], "recast_approve", buttons(post)["recast_approve"], "1")
    )
    resp = await slack.send(body, FORM, ts=int(time.time()) - 6 * 60)
    assert resp.status == 401
    forged = await slack.http.post(
        slack.url,
        data=body.encode(),
        headers={
            "Content-Type": FORM,
            "X-Slack-Request-Timestamp": str(int(time.time())),
            "X-Slack-Signature": "v0=bad",
        },
    )
    assert forged.status == 401
    row = await _request(deps, request.id)
    assert (row.current_stage, row.status) == (1, "pending")
    assert fake_slack.calls_to("chat.update") == [] and fake_slack.calls_to("chat.postEphemeral") == []


async def test_app_home_and_approvals_command_list_pending_approvals_and_event_retries_are_dropped(
    deps, slack, fake_slack, agency
):
    draft_id, _, _ = await _posted(deps, slack, fake_slack, agency)
    async with deps.sessionmaker() as s:
        title = (await s.get_one(GeneratedContent, draft_id)).title or "Untitled draft"
    manager, client = agency.slack_ids["manager"], agency.slack_ids["client"]

    def home(user: str, event_id: str) -> str:
        return json.dumps(
            {
                "token": "legacy",
                "team_id": TEAM,
                "api_app_id": "A0RECAST",
                "type": "event_callback",
                "event_id": event_id,
                "event_time": int(time.time()),
                "event": {"type": "app_home_opened", "user": user, "channel": "D0", "tab": "home"},
            }
        )

    first = home(manager, "Ev0001" + uuid.uuid4().hex[:6])
    assert (await slack.send(first, JSON)).status == 200
    (published,) = await fake_slack.wait_for("views.publish", lambda c: c.params["user_id"] == manager)
    assert title[:40] in json.dumps(published.params["view"])
    assert (await slack.send(first, JSON, headers={"X-Slack-Retry-Num": "1"})).status == 200
    assert (await slack.send(home(client, "Ev0002" + uuid.uuid4().hex[:6]), JSON)).status == 200
    (other,) = await fake_slack.wait_for("views.publish", lambda c: c.params["user_id"] == client)
    assert "Nothing is waiting" in json.dumps(other.params["view"])  # stage 1 is the manager's
    assert len([c for c in fake_slack.calls_to("views.publish") if c.params["user_id"] == manager]) == 1

    command = urlencode(
        {
            "token": "legacy",
            "team_id": TEAM,
            "channel_id": CHANNEL,
            "user_id": manager,
            "command": "/recast",
            "text": "approvals",
            "trigger_id": "trig-cmd",
            "response_url": "https://hooks.slack.invalid/commands/1",
            "api_app_id": "A0RECAST",
        }
    )
    assert (await slack.send(command, FORM)).status == 200
    (listing,) = await fake_slack.wait_for("chat.postEphemeral")
    assert listing.params["user"] == manager and title[:40] in json.dumps(listing.params["blocks"])


async def test_why_n_answers_the_reviewer_ephemerally_with_the_scores_checks_and_changes_nothing(
    deps, slack, fake_slack, agency
):
    draft_id, request, post = await _posted(deps, slack, fake_slack, agency)
    async with deps.sessionmaker() as s:
        draft = await s.get_one(GeneratedContent, draft_id)
    score = round(float(draft.quality_score))
    assert f"Quality {score}/100" in json.dumps(post.params["blocks"], ensure_ascii=False)
    (why,) = [
        e
        for b in post.params["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "recast_why"
    ]
    assert why["text"]["text"] == f"❓ Why {score}?"

    resp = await slack.send(
        slack.interactive_body(click(agency.slack_ids["manager"], "recast_why", why["value"], "1")), FORM
    )
    assert resp.status == 200
    (note,) = await fake_slack.wait_for("chat.postEphemeral")
    assert note.params["user"] == agency.slack_ids["manager"]
    text = note.params["text"]
    assert text.startswith(f"Why {score}/100?")
    assert "Complete sentences: " in text and "/25" in text and "Platform fit: " in text and "/20" in text
    row = await _request(deps, request.id)
    assert (row.status, row.current_stage) == ("pending", 1)
    assert fake_slack.calls_to("chat.update") == []
