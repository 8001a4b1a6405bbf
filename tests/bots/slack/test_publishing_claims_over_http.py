"""What Slack says about publishing is what happens: the workflow modal offers auto-publish and saves it; an
auto-publish approval adds its publishing unit with the approval, the draft is published on the client's
LinkedIn without a click, and "queued" is said only then; with no account connected, nothing is promised and
the thread hears how to connect one."""

from __future__ import annotations

import json

from sqlalchemy import func, select, update

from core.deps import CoreDeps
from core.distribution.models import PostStatus, ScheduledPost
from core.work.models import WorkUnit
from core.workflow import approvals
from core.workflow.models import ApprovalWorkflow
from tests.bots.slack.conftest import BOTH_LOGINS, CHANNEL, Agency, telegram_sent
from tests.bots.slack.test_publishing_over_http import (
    _approve_both_stages,
    _connected_linkedin,
    _in_thread,
    _offer_rows,
)
from tests.bots.slack.test_submissions_over_http import FORM, text_value, workflow_submission

pytestmark = BOTH_LOGINS


async def test_the_workflow_modal_offers_auto_publish_and_saves_it(deps, slack, fake_slack, agency):
    manager = agency.slack_ids["manager"]
    assert await slack.command(manager, "workflow") == ""
    (opened,) = await fake_slack.wait_for("views.open")
    view = opened.params["view"]
    (option,) = next(b for b in view["blocks"] if b["block_id"] == "auto_publish")["element"]["options"]
    assert option["text"]["text"] == "Publish automatically when the last stage approves"
    values = {
        "name": text_value("Acme auto"),
        "stage1_name": text_value("Editor"),
        "stage1_users": {"value": {"type": "multi_users_select", "selected_users": [manager]}},
        "auto_publish": {"value": {"type": "checkboxes", "selected_options": [{"value": "yes"}]}},
    }
    resp = await slack.send(
        slack.interactive_body(workflow_submission(manager, view["private_metadata"], values)), FORM
    )
    assert resp.status == 200
    (said,) = await fake_slack.wait_for("chat.postEphemeral", lambda c: "Saved the workflow" in c.params["text"])
    assert said.params["channel"] == CHANNEL and "published at once" in said.params["text"]
    async with deps.sessionmaker() as s:
        saved = await s.scalar(
            select(ApprovalWorkflow).where(
                ApprovalWorkflow.client_account_id == agency.team.client.id, ApprovalWorkflow.is_active.is_(True)
            )
        )
    assert saved is not None and saved.auto_publish is True


async def _auto_publish(deps: CoreDeps, agency: Agency) -> None:
    async with deps.sessionmaker.begin() as s:
        changed = await s.execute(
            update(ApprovalWorkflow)
            .where(ApprovalWorkflow.client_account_id == agency.team.client.id)
            .values(auto_publish=True)
        )
        assert changed.rowcount == 1  # type: ignore[attr-defined]


async def test_an_auto_publish_workflow_publishes_on_approval_without_a_click(
    deps, publishing_web, slack, fake_slack, linkedin, agency, worker
):
    await _auto_publish(deps, agency)
    await _connected_linkedin(deps, linkedin, agency)
    draft_id, post = await _approve_both_stages(deps, slack, fake_slack, agency)

    client = agency.slack_ids["client"]
    (said,) = await fake_slack.wait_for("chat.postMessage", _in_thread(post, "was approved by"))
    assert said.params["text"].endswith(f"was approved by <@{client}> and is queued for publishing.")
    await fake_slack.wait_for("chat.postMessage", _in_thread(post, "Publishing on LinkedIn (Asha Rao) now"))
    (linked,) = await fake_slack.wait_for("chat.postMessage", _in_thread(post, "Published on LinkedIn (Asha Rao): "))
    await worker.drain()
    assert len(linkedin.posts) == 1
    async with deps.sessionmaker() as s:
        (published,) = (
            await s.scalars(select(ScheduledPost).where(ScheduledPost.generated_content_id == draft_id))
        ).all()
        units = (await s.scalars(select(WorkUnit).where(WorkUnit.kind == approvals.PUBLISH_TASK))).all()
    assert published.status == PostStatus.PUBLISHED and linked.params["text"].endswith(str(published.platform_post_url))
    assert [u.state for u in units if u.payload["draft_id"] == str(draft_id)] == ["succeeded"]
    assert not any(_offer_rows(c) for c in fake_slack.calls_to("chat.postMessage") if c.params.get("thread_ts"))
    told = [m.text for chat, m in telegram_sent(deps) if chat.chat_id == agency.team.creator_chat]
    assert any("It's queued for publishing." in t for t in told)
    assert any(t.startswith("Published on LinkedIn (Asha Rao): ") for t in told)


async def test_auto_publish_with_no_account_connected_says_so_and_promises_nothing(
    deps, publishing_web, slack, fake_slack, linkedin, agency, worker
):
    await _auto_publish(deps, agency)
    draft_id, post = await _approve_both_stages(deps, slack, fake_slack, agency)
    client = agency.slack_ids["client"]
    (said,) = await fake_slack.wait_for("chat.postMessage", _in_thread(post, "was approved by"))
    assert said.params["text"].endswith(f"was approved by <@{client}>.")
    (how,) = await fake_slack.wait_for("chat.postMessage", _in_thread(post, "connect an account"))
    assert how.params["text"] == "✅ Approved; connect an account with `/recast connect linkedin` to publish it."
    await worker.drain()
    assert "queued" not in json.dumps([c.params for c in fake_slack.calls]).lower()
    told = [m.text for chat, m in telegram_sent(deps) if chat.chat_id == agency.team.creator_chat]
    assert told and not any("queued" in t for t in told)
    assert linkedin.posts == []
    async with deps.sessionmaker() as s:
        posts = select(func.count()).select_from(ScheduledPost).where(ScheduledPost.generated_content_id == draft_id)
        assert await s.scalar(posts) == 0
