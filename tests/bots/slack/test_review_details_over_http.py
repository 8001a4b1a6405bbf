"""Smaller review behaviours over HTTP: an empty reason stays in the form, a later stage's change request goes
back through stage 1, approving from App Home redraws App Home, and a button that does nothing says why."""

from __future__ import annotations

import json
import re
import uuid

from bots.slack import outbox
from core.workflow.models import ApprovalRequest
from tests.bots.slack.conftest import BOTH_LOGINS, CHANNEL, TEAM, block_action
from tests.bots.slack.test_approvals_over_http import FORM, buttons, click, submit
from tests.core.workflow.builders import make_draft

pytestmark = BOTH_LOGINS


async def _posted(deps, slack, fake_slack, agency):
    draft_id = await make_draft(deps, agency.team)
    request = await outbox.post_approval(deps, slack.client, draft_id)
    (post,) = await fake_slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == CHANNEL)
    return request, post


async def _row(deps, request_id) -> ApprovalRequest:
    async with deps.sessionmaker() as s:
        return await s.get_one(ApprovalRequest, request_id)


async def test_an_empty_reason_is_asked_for_in_the_form_and_nothing_else_is_sent(deps, slack, fake_slack, agency):
    request, post = await _posted(deps, slack, fake_slack, agency)
    manager = agency.slack_ids["manager"]
    for kind, action in (("recast_reject_modal", "recast_reject"), ("recast_changes_modal", "recast_request_changes")):
        meta = buttons(post)[action]
        resp = await slack.send(slack.interactive_body(submit(manager, kind, meta, "   ")), FORM)
        answer = json.loads(await resp.text())
        assert answer["response_action"] == "errors" and answer["errors"]["feedback"] == "Please write a few words."
    # A real rejection afterwards: once its effects are seen, the empty ones' lazy work is long done.
    await slack.send(
        slack.interactive_body(submit(manager, "recast_reject_modal", buttons(post)["recast_reject"], "Off-brand")),
        FORM,
    )
    await fake_slack.wait_for("chat.update")
    await fake_slack.wait_for("views.publish", lambda c: c.params["user_id"] == manager)
    assert not [c for c in fake_slack.calls_to("chat.postMessage") if c.params.get("channel") == manager]
    row = await _row(deps, request.id)
    assert (row.status, row.feedback, row.revision_count) == ("rejected", "Off-brand", 0)


async def test_changes_asked_at_stage_two_come_back_through_stage_one(deps, slack, fake_slack, agency, worker):
    request, post = await _posted(deps, slack, fake_slack, agency)
    manager, client = agency.slack_ids["manager"], agency.slack_ids["client"]
    await slack.send(
        slack.interactive_body(click(manager, "recast_approve", buttons(post)["recast_approve"], "1")), FORM
    )
    (update,) = await fake_slack.wait_for("chat.update")
    stage_two = buttons(update)
    await slack.send(
        slack.interactive_body(click(client, "recast_request_changes", stage_two["recast_request_changes"], "1")), FORM
    )
    (modal,) = await fake_slack.wait_for("views.open")
    await slack.send(
        slack.interactive_body(
            submit(client, "recast_changes_modal", modal.params["view"]["private_metadata"], "Shorter please")
        ),
        FORM,
    )
    (revision,) = await fake_slack.wait_for(
        "chat.postMessage", lambda c: c.params.get("thread_ts") is not None and c.params.get("blocks")
    )
    assert buttons(revision)["recast_approve"] == f"{request.id}:1:1"  # stage 1 again, version 2
    assert "Stage 1/2:* Manager review" in json.dumps(revision.params["blocks"])
    row = await _row(deps, request.id)
    assert (row.status, row.current_stage, row.revision_count) == ("pending", 1, 1)
    (told,) = await fake_slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == manager)
    assert "comes back to stage 1 for review" in told.params["text"]
    # The editor's Home tab has it again, at stage 1.
    await fake_slack.wait_for(
        "views.publish",
        lambda c: c.params["user_id"] == manager and "Stage 1/2: Manager review" in json.dumps(c.params["view"]),
    )

    # The client's old stage-2 button now does nothing, and says what the state really is.
    await slack.send(slack.interactive_body(click(client, "recast_approve", stage_two["recast_approve"], "1")), FORM)
    (note,) = await fake_slack.wait_for("chat.postEphemeral", lambda c: c.params.get("user") == client)
    assert note.params["text"] == (
        "Nothing changed: this is an older version. Version 2 is in the thread, now at stage 1/2 (Manager review)."
    )
    assert (await _row(deps, request.id)).current_stage == 1


async def test_a_stage_two_button_at_stage_one_says_where_the_draft_is(deps, slack, fake_slack, agency):
    request, post = await _posted(deps, slack, fake_slack, agency)
    client = agency.slack_ids["client"]
    for action in ("recast_approve", "recast_reject"):
        await slack.send(slack.interactive_body(click(client, action, f"{request.id}:2:0", "1")), FORM)
    notes = await fake_slack.wait_for("chat.postEphemeral", lambda c: c.params.get("user") == client, count=2)
    expected = (
        "Nothing changed: the draft is not at stage 2 (Client sign-off); it is waiting at stage 1/2, Manager review."
    )
    assert [n.params["text"] for n in notes] == [expected, expected]
    assert fake_slack.calls_to("views.open") == [] and fake_slack.calls_to("chat.update") == []


async def test_approving_from_app_home_redraws_app_home(deps, slack, fake_slack, agency):
    request, post = await _posted(deps, slack, fake_slack, agency)
    manager = agency.slack_ids["manager"]
    status, _ = await slack.interact(
        block_action(
            team=TEAM, channel=None, user=manager, action_id="recast_approve", value=buttons(post)["recast_approve"]
        )
    )
    assert status == 200
    (home,) = await fake_slack.wait_for("views.publish", lambda c: c.params["user_id"] == manager)
    assert "Nothing is waiting for you" in json.dumps(home.params["view"])
    assert "recast_approve" not in json.dumps(home.params["view"])
    (update,) = await fake_slack.wait_for("chat.update")
    assert "Stage 2/2" in json.dumps(update.params["blocks"])
    assert (await _row(deps, request.id)).current_stage == 2
    assert str(uuid.UUID(buttons(update)["recast_approve"].split(":")[0])) == str(request.id)


def _header(call) -> str:
    return next(b["text"]["text"] for b in call.params["blocks"] if b["type"] == "header")


def _what(call) -> str:
    return call.params["blocks"][0]["elements"][0]["text"]


def _draft_text(call) -> str:
    """The draft's own text in a review message: the first section after the header."""
    blocks = call.params["blocks"]
    at = next(i for i, b in enumerate(blocks) if b["type"] == "header")
    return str(blocks[at + 1]["text"]["text"])


async def test_every_approval_message_names_format_source_version_and_stage(deps, slack, fake_slack, agency):
    _, post = await _posted(deps, slack, fake_slack, agency)
    assert _what(post).startswith("*LinkedIn post* · Source: “Most creators in India")
    # The score, when the draft holds the checks that explain it, closes the line.
    assert re.search(r"\(text by upload\) · Version 1 · Quality \d+/100$", _what(post)), _what(post)
    assert "Stage 1/2:* Manager review" in json.dumps(post.params["blocks"])
    assert post.params["text"].startswith("Draft for review: LinkedIn post “")


async def test_a_revision_keeps_its_title_meets_its_feedback_and_says_what_changed(
    deps, slack, fake_slack, agency, worker
):
    request, post = await _posted(deps, slack, fake_slack, agency)
    manager = agency.slack_ids["manager"]
    await slack.send(
        slack.interactive_body(
            submit(
                manager,
                "recast_changes_modal",
                buttons(post)["recast_request_changes"],
                "Make it shorter and open with a question",
            )
        ),
        FORM,
    )
    (revision,) = await fake_slack.wait_for(
        "chat.postMessage", lambda c: c.params.get("thread_ts") is not None and c.params.get("blocks")
    )
    assert _header(revision) == _header(post)  # its own title, not another draft's
    assert _what(revision).startswith("*LinkedIn post* · Source:") and re.search(
        r" · Version 2( · Quality \d+/100)?$", _what(revision)
    )
    before, after = _draft_text(post), _draft_text(revision)
    assert len(after) <= 0.8 * len(before)
    assert after.split("?")[0].count(".") == 0 and "?" in after.split("\n")[0]  # the first sentence asks
    note = json.dumps(revision.params["blocks"], ensure_ascii=False)
    assert "Version 2, after feedback: Make it shorter and open with a question" in note
    assert "✅ shorter — " in note and "✅ open with a question — opens “" in note
    assert "not met" not in note


async def test_a_feedback_about_the_title_may_change_it(deps, slack, fake_slack, agency, worker):
    request, post = await _posted(deps, slack, fake_slack, agency)
    manager = agency.slack_ids["manager"]
    await slack.send(
        slack.interactive_body(
            submit(manager, "recast_changes_modal", buttons(post)["recast_request_changes"], "Give it a punchier title")
        ),
        FORM,
    )
    (revision,) = await fake_slack.wait_for(
        "chat.postMessage", lambda c: c.params.get("thread_ts") is not None and c.params.get("blocks")
    )
    note = json.dumps(revision.params["blocks"], ensure_ascii=False)
    if _header(revision) != _header(post):  # the writer chose a new one: the note says so
        assert f"Title: now “{_header(revision)}”" in note
    else:
        assert "Title: now" not in note


async def test_once_a_new_version_is_in_the_thread_only_it_offers_buttons(deps, slack, fake_slack, agency, worker):
    request, post = await _posted(deps, slack, fake_slack, agency)
    manager = agency.slack_ids["manager"]
    original_ts = post.response["ts"]

    async def revise(meta: str, feedback: str, count: int):
        await slack.send(slack.interactive_body(submit(manager, "recast_changes_modal", meta, feedback)), FORM)
        replies = await fake_slack.wait_for(
            "chat.postMessage",
            lambda c: c.params.get("thread_ts") == original_ts and c.params.get("blocks"),
            count=count,
        )
        return replies[-1]

    first = await revise(buttons(post)["recast_request_changes"], "Make it shorter", 1)
    # The channel's message now points to the thread and has no buttons of its own.
    (original, *_) = await fake_slack.wait_for(
        "chat.update",
        lambda c: c.params["ts"] == original_ts and "Version 2 is in this message's thread" in json.dumps(c.params),
    )
    assert buttons(original) == {}

    # Approving the reply redraws the reply (stage 2's buttons) and keeps the original without any.
    await slack.send(
        slack.interactive_body(
            click(manager, "recast_approve", buttons(first)["recast_approve"], first.response["ts"])
        ),
        FORM,
    )
    redrawn = await fake_slack.wait_for(
        "chat.update",
        lambda c: c.params["ts"] == first.response["ts"] and "Stage 2/2" in json.dumps(c.params["blocks"]),
    )
    assert buttons(redrawn[-1])["recast_approve"] == f"{request.id}:2:1"
    assert "Stage 2/2" in json.dumps(redrawn[-1].params["blocks"])
    assert buttons([c for c in fake_slack.calls_to("chat.update") if c.params["ts"] == original_ts][-1]) == {}

    # A second version replaces the first reply's buttons with a pointer to the newer one.
    client = agency.slack_ids["client"]
    await slack.send(
        slack.interactive_body(
            submit(client, "recast_changes_modal", buttons(redrawn[-1])["recast_request_changes"], "Shorter still")
        ),
        FORM,
    )
    await fake_slack.wait_for(
        "chat.postMessage", lambda c: c.params.get("thread_ts") == original_ts and c.params.get("blocks"), count=2
    )
    (replaced, *_) = await fake_slack.wait_for(
        "chat.update",
        lambda c: c.params["ts"] == first.response["ts"] and "was replaced by version 3" in c.params.get("text", ""),
    )
    assert buttons(replaced) == {}
