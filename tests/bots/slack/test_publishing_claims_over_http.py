"""Nothing publishes approved drafts yet, so nothing says it does: the workflow modal has no publish option, and a
workflow saved with auto-publish before that option went away approves drafts without promising publishing."""

from __future__ import annotations

import json

from sqlalchemy import func, select, update

from bots.slack import outbox
from core.work.models import WorkUnit
from core.workflow import approvals
from core.workflow.models import ApprovalWorkflow
from tests.bots.slack.conftest import CHANNEL
from tests.bots.slack.test_approvals_over_http import FORM, buttons, click
from tests.core.workflow.builders import make_draft


async def test_the_workflow_modal_offers_no_publishing(deps, slack, fake_slack, agency):
    assert await slack.command(agency.slack_ids["manager"], "workflow") == ""
    (opened,) = await fake_slack.wait_for("views.open")
    view = json.dumps(opened.params["view"]).lower()
    assert "stage1_name" in view and "publish" not in view


async def test_an_old_auto_publish_workflow_approves_without_promising_publishing(deps, slack, fake_slack, agency):
    async with deps.sessionmaker.begin() as s:
        changed = await s.execute(
            update(ApprovalWorkflow)
            .where(ApprovalWorkflow.client_account_id == agency.team.client.id)
            .values(auto_publish=True)
        )
        assert changed.rowcount == 1  # type: ignore[attr-defined]
    draft_id = await make_draft(deps, agency.team)
    await outbox.post_approval(deps, slack.client, draft_id)
    (post,) = await fake_slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == CHANNEL)
    manager, client = agency.slack_ids["manager"], agency.slack_ids["client"]
    await slack.send(
        slack.interactive_body(click(manager, "recast_approve", buttons(post)["recast_approve"], post.response["ts"])),
        FORM,
    )
    (update_call,) = await fake_slack.wait_for("chat.update")
    await slack.send(
        slack.interactive_body(
            click(client, "recast_approve", buttons(update_call)["recast_approve"], post.response["ts"])
        ),
        FORM,
    )

    # The channel hears the approval in the draft's thread, and nothing about publishing.
    (said,) = await fake_slack.wait_for("chat.postMessage", lambda c: c.params.get("thread_ts") == post.response["ts"])
    assert said.params["text"].endswith(f"was approved by <@{client}>.")
    await fake_slack.wait_for("views.publish", lambda c: c.params["user_id"] == client, count=2)
    # The creator (on Telegram) hears the approval, and nothing about publishing.
    told = [m.text for chat, m in deps.notifier.sent if chat.chat_id == agency.team.creator_chat]
    assert len(told) == 1 and "was approved by Chloe." in told[0] and "publish" not in told[0].lower()
    everything = json.dumps([c.params for c in fake_slack.calls]).lower()
    assert "publish" not in everything
    # And nothing was queued for a publisher that doesn't exist.
    assert [name for name, _ in deps.enqueue.calls if name == approvals.PUBLISH_TASK] == []
    async with deps.sessionmaker() as s:
        assert (
            await s.scalar(select(func.count()).select_from(WorkUnit).where(WorkUnit.kind == approvals.PUBLISH_TASK))
            == 0
        )
