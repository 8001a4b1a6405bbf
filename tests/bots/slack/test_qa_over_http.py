"""Human QA over HTTP: a manager sends a draft under review to QA from its approval message (review, priority, note;
due by the priority's SLA), another owner/admin/manager finds it in the QA queue on their Home tab and passes it
or fails it with a note; the requester and the submitter hear the outcome, and a failed QA sends the draft back
for changes. People who can't send drafts to QA aren't offered it."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bots.slack import outbox
from core.common.clock import utcnow
from core.db.session import acting_or_maintenance, session_scope
from core.notify.ports import ChatRef
from core.workflow import approvals, qa, qa_requests
from core.workflow.models import ApprovalRequest, QARequest
from tests.bots.slack.conftest import BOTH_LOGINS, CHANNEL, OWNER, TEAM, Agency, block_action, view_submission
from tests.bots.slack.test_approvals_over_http import FORM, buttons, click
from tests.bots.slack.test_notifications_over_http import dms_to, homes_of, slack_submitter
from tests.core.workflow.builders import link_telegram, make_draft
from tests.fakes.slack_api import FakeSlack

pytestmark = BOTH_LOGINS


async def _posted(deps, slack, fake_slack: FakeSlack, agency: Agency):
    draft_id = await make_draft(deps, agency.team)
    request = await outbox.post_approval(deps, slack.client, draft_id)
    (post,) = await fake_slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == CHANNEL)
    return request, post


def _select(value: str | None) -> dict[str, Any]:
    return {"value": {"type": "static_select", "selected_option": {"value": value} if value else None}}


def _qa_values(qa_type: str, priority: str, note: str | None) -> dict[str, Any]:
    return {
        "qa_type": _select(qa_type),
        "priority": _select(priority),
        "note": {"value": {"type": "plain_text_input", "value": note}},
    }


def _qa_buttons(home: str) -> dict[str, str]:
    view = json.loads(home)
    return {
        e["action_id"]: e["value"]
        for b in view["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"].startswith("recast_qa_")
    }


async def _open_home(slack, user: str) -> None:
    await slack.event({"type": "app_home_opened", "user": user, "tab": "home", "channel": "D0HOME"})


async def test_a_manager_sends_a_draft_to_qa_and_the_owner_passes_it(deps, slack, fake_slack, agency):
    agency, sam = await slack_submitter(deps, agency)
    request, post = await _posted(deps, slack, fake_slack, agency)
    manager, owner = agency.slack_ids["manager"], agency.slack_ids["owner"]
    assert buttons(post)["recast_send_to_qa"] == buttons(post)["recast_approve"]

    await slack.send(
        slack.interactive_body(
            click(manager, "recast_send_to_qa", buttons(post)["recast_send_to_qa"], post.response["ts"])
        ),
        FORM,
    )
    (opened,) = await fake_slack.wait_for("views.open")
    view = opened.params["view"]
    assert view["callback_id"] == "recast_qa_modal" and view["private_metadata"] == str(request.id)
    assert [b.get("block_id") for b in view["blocks"][1:]] == ["qa_type", "priority", "note"]
    priorities = [o["text"]["text"] for o in view["blocks"][2]["element"]["options"]]
    assert priorities == ["Low: due in 72 h", "Normal: due in 24 h", "High: due in 8 h", "Urgent: due in 4 h"]

    before = utcnow()
    status, _ = await slack.interact(
        view_submission(
            team=TEAM,
            user=manager,
            callback_id="recast_qa_modal",
            meta=view["private_metadata"],
            values=_qa_values("brand_safety", "high", "Check the revenue claim"),
        )
    )
    assert status == 200
    (sent,) = await dms_to(fake_slack, manager)
    assert sent.params["text"].startswith("🔍 Sent “")
    assert "(LinkedIn post) to QA (Brand safety, high priority, due " in sent.params["text"]
    async with deps.sessionmaker() as s:
        (row,) = (
            await s.scalars(select(QARequest).where(QARequest.generated_content_id == request.generated_content_id))
        ).all()
    assert row.qa_type == "brand_safety" and row.priority == "high" and row.sla_hours == 8
    assert before + timedelta(hours=8) - timedelta(minutes=1) <= row.due_at <= utcnow() + timedelta(hours=8)

    # The owner's QA queue has it, with what to check; the manager who asked doesn't review it.
    await fake_slack.wait_for("views.publish", lambda c: c.params["user_id"] == owner)
    home = json.dumps(json.loads(homes_of(fake_slack, owner)[-1]), ensure_ascii=False)
    assert "QA queue" in home and "Brand safety · high priority · due" in home and "asked by Manoj" in home
    assert "Note: Check the revenue claim" in home and _qa_buttons(home) == {
        "recast_qa_pass": str(row.id),
        "recast_qa_fail": str(row.id),
    }
    await fake_slack.wait_for("views.publish", lambda c: c.params["user_id"] == manager)
    assert "No QA reviews are waiting" in homes_of(fake_slack, manager)[-1]

    await slack.interact(
        block_action(team=TEAM, channel=None, user=owner, action_id="recast_qa_pass", value=str(row.id))
    )
    (to_manager,) = (await dms_to(fake_slack, manager, count=2))[-1:]
    assert to_manager.params["text"].startswith("✅ QA passed: Brand safety of “")
    assert to_manager.params["text"].endswith("(LinkedIn post) by Olivia.")
    (to_sam,) = await dms_to(fake_slack, sam)
    assert to_sam.params["text"] == to_manager.params["text"]
    (to_owner,) = await dms_to(fake_slack, owner)
    assert to_owner.params["text"].startswith("Recorded: “") and to_owner.params["text"].endswith("passed QA.")
    await fake_slack.wait_for(
        "views.publish",
        lambda c: c.params["user_id"] == owner and "No QA reviews are waiting" in json.dumps(c.params["view"]),
    )
    async with deps.sessionmaker() as s:
        done = await s.get_one(QARequest, row.id)
        review = await s.get_one(ApprovalRequest, request.id)
    assert (done.status, done.assigned_to) == ("passed", agency.team.owner.id)
    assert review.status == "pending"  # a pass leaves the approval where it was

    # A second click (a retry, or the Home tab seen before the redraw) changes nothing and says so.
    await slack.interact(
        block_action(team=TEAM, channel=None, user=owner, action_id="recast_qa_pass", value=str(row.id))
    )
    (again,) = (await dms_to(fake_slack, owner, count=2))[-1:]
    assert again.params["text"] == "Nothing changed: this QA review was already passed by Olivia."
    assert len([c for c in fake_slack.calls_to("chat.postMessage") if c.params.get("channel") == sam]) == 1


async def test_a_failed_qa_sends_the_draft_back_for_changes(deps, slack, fake_slack, agency, worker):
    agency, sam = await slack_submitter(deps, agency)
    request, post = await _posted(deps, slack, fake_slack, agency)
    manager, owner = agency.slack_ids["manager"], agency.slack_ids["owner"]
    async with session_scope(deps.sessionmaker) as s:
        sent = await qa.send_to_qa(
            session=s,
            request_id=request.id,
            by_user_id=agency.team.manager.id,
            qa_type="content_review",
            priority="normal",
            note=None,
        )
    await _open_home(slack, owner)
    (home,) = await fake_slack.wait_for("views.publish", lambda c: c.params["user_id"] == owner)
    fail = _qa_buttons(json.dumps(home.params["view"]))["recast_qa_fail"]
    assert fail == str(sent.qa.id)

    await slack.interact(block_action(team=TEAM, channel=None, user=owner, action_id="recast_qa_fail", value=fail))
    (opened,) = await fake_slack.wait_for("views.open")
    assert opened.params["view"]["callback_id"] == "recast_qa_fail_modal"
    empty = view_submission(
        team=TEAM,
        user=owner,
        callback_id="recast_qa_fail_modal",
        meta=fail,
        values={"feedback": {"text": {"type": "plain_text_input", "value": " "}}},
    )
    answer = json.loads((await slack.interact(empty))[1])
    assert answer == {
        "response_action": "errors",
        "errors": {"feedback": "Say what failed, so the next version can fix it."},
    }
    note = "Make it shorter and open with a question"
    await slack.interact(
        view_submission(
            team=TEAM,
            user=owner,
            callback_id="recast_qa_fail_modal",
            meta=fail,
            values={"feedback": {"text": {"type": "plain_text_input", "value": note}}},
        )
    )

    (to_sam,) = await dms_to(fake_slack, sam)
    assert to_sam.params["text"].startswith("❌ QA failed: Content review of “")
    assert to_sam.params["text"].endswith(f"by Olivia: {note}. It goes back for changes; a new version is on its way.")
    (to_manager,) = await dms_to(fake_slack, manager)
    assert to_manager.params["text"] == to_sam.params["text"]
    # Like "Request changes": a new version in the thread, from stage 1, written from the QA note.
    (revision,) = await fake_slack.wait_for(
        "chat.postMessage", lambda c: c.params.get("thread_ts") == post.response["ts"] and c.params.get("blocks")
    )
    assert buttons(revision)["recast_approve"] == f"{request.id}:1:1"
    assert f"Version 2, after feedback: {note}" in json.dumps(revision.params["blocks"], ensure_ascii=False)
    async with deps.sessionmaker() as s:
        review = await s.get_one(ApprovalRequest, request.id)
        done = await s.get_one(QARequest, sent.qa.id)
    assert (review.status, review.current_stage, review.revision_count, review.feedback) == ("pending", 1, 1, note)
    assert (done.status, done.feedback) == ("failed", note)
    await fake_slack.wait_for(
        "views.publish",
        lambda c: c.params["user_id"] == owner and "No QA reviews are waiting" in json.dumps(c.params["view"]),
    )


async def test_only_owners_admins_and_managers_are_offered_qa_and_nobody_reviews_their_own(
    deps, slack, fake_slack, agency
):
    request, post = await _posted(deps, slack, fake_slack, agency)
    manager, client = agency.slack_ids["manager"], agency.slack_ids["client"]
    # The channel's message is shared: a client reviewer's click says why, and opens nothing.
    await slack.send(
        slack.interactive_body(
            click(client, "recast_send_to_qa", buttons(post)["recast_send_to_qa"], post.response["ts"])
        ),
        FORM,
    )
    (note,) = await fake_slack.wait_for("chat.postEphemeral", lambda c: c.params.get("user") == client)
    assert note.params["text"] == "Only the organization's owners, admins and managers send drafts to QA."
    assert fake_slack.calls_to("views.open") == []
    async with session_scope(deps.sessionmaker) as s:
        # Stage 2 is the client's: their Home tab lists it, without Send to QA and without a QA queue.
        await approvals.approve(session=s, request_id=request.id, by_user_id=agency.team.manager.id, expected_stage=1)
    await _open_home(slack, client)
    (client_home,) = await fake_slack.wait_for("views.publish", lambda c: c.params["user_id"] == client)
    shown = json.dumps(client_home.params["view"])
    assert "Stage 2/2" in shown and "recast_send_to_qa" not in shown and "QA queue" not in shown

    async with session_scope(deps.sessionmaker) as s:
        sent = await qa.send_to_qa(
            session=s,
            request_id=request.id,
            by_user_id=agency.team.manager.id,
            qa_type="fact_check",
            priority="low",
            note=None,
        )
    await _open_home(slack, manager)
    (manager_home,) = await fake_slack.wait_for("views.publish", lambda c: c.params["user_id"] == manager)
    assert "No QA reviews are waiting" in json.dumps(manager_home.params["view"])  # their own request isn't there
    await slack.interact(
        block_action(team=TEAM, channel=None, user=manager, action_id="recast_qa_pass", value=str(sent.qa.id))
    )
    (refused,) = await dms_to(fake_slack, manager)
    assert refused.params["text"] == "You asked for this QA review, so another owner, admin or manager does it."
    async with deps.sessionmaker() as s:
        assert (await s.get_one(QARequest, sent.qa.id)).status == "pending"


async def test_a_qa_request_due_soon_reminds_its_requester_once_in_every_chat(
    deps, app_deps, slack, fake_slack, agency, slack_login
):
    from tasks.slack import qa_reminders

    request, _ = await _posted(deps, slack, fake_slack, agency)
    manager = agency.slack_ids["manager"]
    telegram = "8820001" if slack_login == OWNER else "8820002"  # identities outlive the test
    async with session_scope(deps.sessionmaker) as s:
        await link_telegram(s, agency.team.manager, telegram)
        # Asked 23 hours ago at normal priority (24 h): due within the hour.
        item = await qa_requests.request_qa(
            session=s,
            draft_id=request.generated_content_id,
            requested_by=agency.team.manager.id,
            qa_type="brand_safety",
            priority="normal",
            sla_hours=qa.QA_SLA_HOURS["normal"],
            now=utcnow() - timedelta(hours=23),
        )
    with acting_or_maintenance(None):  # as the worker runs a periodic task: nobody's session queued it
        assert await qa_reminders(app_deps) >= 1
        assert await qa_reminders(app_deps) == 0  # the second run finds it reminded

    on_telegram = [m.text for chat, m in deps.notifier.sent if chat == ChatRef("telegram", telegram)]
    due = qa.due_text(item.due_at)
    assert len(on_telegram) == 1 and on_telegram[0].startswith(f"⏰ QA review due {due}: Brand safety of “")
    assert on_telegram[0].endswith("(LinkedIn post) (normal priority) isn't done yet.")
    on_slack = [c.params["text"] for c in fake_slack.calls_to("chat.postMessage") if c.params.get("channel") == manager]
    assert on_slack == on_telegram
    # Nobody else is reminded of someone else's request.
    assert [chat for chat, _ in deps.notifier.sent] == [ChatRef("telegram", telegram)]
