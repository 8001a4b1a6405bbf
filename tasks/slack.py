"""Slack tasks: post a draft for team approval, QA reminders, and content submitted from Slack.

Why these import the Slack adapter (lazily): Block Kit rendering and the per-workspace token live in
`bots/slack`; the notifier port carries plain text only, too little for an approval message.
"""

from __future__ import annotations

import uuid
from typing import Any

from core.common.clock import utcnow
from core.db.session import session_scope
from core.deps import CoreDeps
from core.repurposing.models import GeneratedContent
from core.workflow import qa
from core.workflow import service as wf
from tasks.registry import task


def _client(deps: CoreDeps) -> Any:
    from bots.slack import outbox

    return outbox.base_client(deps)


@task("slack.post_approval")
async def post_approval(draft_id: str, deps: CoreDeps, requested_by: str | None = None) -> None:
    """Open the draft's approval request and post it to its client's Slack channel (once)."""
    from bots.slack import outbox

    await outbox.post_approval(
        deps, _client(deps), uuid.UUID(draft_id), uuid.UUID(requested_by) if requested_by else None
    )


@task("slack.send_qa_reminders")
async def qa_reminders(deps: CoreDeps) -> int:
    """Remind whoever asked for QA, in every chat they use (Telegram through the notifier, Slack as a DM), before
    a review misses its SLA; once per request."""
    from bots.slack import outbox
    from bots.slack.blocks import draft_label

    now = utcnow()
    sent = 0
    async with session_scope(deps.sessionmaker) as session:
        for item in await wf.qa_due_for_reminder(session=session, now=now):
            draft = (
                await session.get(GeneratedContent, item.generated_content_id) if item.generated_content_id else None
            )
            label = draft_label(draft) if draft else "a draft"
            await outbox.deliver(
                deps, _client(deps), await qa.reminder_notices(session=session, qa=item, draft_label=label)
            )
            await wf.mark_qa_reminded(session=session, qa=item, now=now)
            sent += 1
    return sent


@task("slack.submit_link")
async def submit_link(
    team_id: str,
    channel_id: str,
    slack_user_id: str,
    deps: CoreDeps,
    link: str | None = None,
    text: str | None = None,
) -> str | None:
    """`/recast submit <link or text>`: the article or text into the pipeline as the channel's client content."""
    from bots.slack import submissions

    asset_id = await submissions.submit(
        deps, team_id=team_id, channel_id=channel_id, slack_user_id=slack_user_id, link=link, text=text
    )
    return str(asset_id) if asset_id else None


@task("slack.submit_file")
async def submit_file(
    team_id: str,
    channel_id: str | None,
    slack_user_id: str | None,
    file_id: str | None,
    deps: CoreDeps,
) -> str | None:
    """A file shared in Slack: downloaded into a content asset of the channel's client, then the pipeline."""
    from bots.slack import submissions

    if not slack_user_id or not file_id:
        return None
    asset_id = await submissions.submit_file(
        deps, team_id=team_id, channel_id=channel_id, slack_user_id=slack_user_id, file_id=file_id
    )
    return str(asset_id) if asset_id else None
