"""Slack tasks: post a draft for team approval, QA reminders, and content submitted from Slack.

They reach Slack through the team chat port (`CoreDeps.team_chat`), which renders Block Kit and holds the
per-workspace token in the adapter.
"""

from __future__ import annotations

import uuid

from core.common.clock import utcnow
from core.db.session import session_scope
from core.deps import CoreDeps
from core.repurposing.models import GeneratedContent
from core.workflow import qa, qa_requests, revising
from core.workflow.ports import TeamChat
from tasks.registry import task


def _chat(deps: CoreDeps) -> TeamChat:
    if deps.team_chat is None:
        raise RuntimeError("CoreDeps.team_chat is not configured")
    return deps.team_chat


@task("slack.post_approval")
async def post_approval(draft_id: str, deps: CoreDeps, requested_by: str | None = None) -> None:
    """Open the draft's approval request and post it to its client's Slack channel (once)."""
    await _chat(deps).post_approval(deps, uuid.UUID(draft_id), uuid.UUID(requested_by) if requested_by else None)


@task("slack.revise", key=lambda p: f"{p['request_id']}:r{p['revision']}")
async def revise(request_id: str, revision: int, deps: CoreDeps, by_user_id: str | None = None) -> None:
    """After changes were asked for (by a reviewer or a failed QA): the new version is written here, in a worker,
    then posted in the request's thread with fresh buttons. `revision` is the request's revision count when the
    changes were asked for (one rewrite per change request)."""
    async with session_scope(deps.sessionmaker) as session:
        ai = deps.require_ai()
        await revising.apply_revision(
            session=session,
            writer=ai.writer,
            index=deps.brand_index,
            request_id=uuid.UUID(request_id),
            by_user_id=uuid.UUID(by_user_id) if by_user_id else None,
        )
    await _chat(deps).revision_ready(deps, uuid.UUID(request_id))


@task("slack.send_qa_reminders")
async def qa_reminders(deps: CoreDeps) -> int:
    """Remind whoever asked for QA, in every chat they use (Telegram through the notifier, Slack as a DM), before
    a review misses its SLA; once per request."""
    chat = _chat(deps)
    now = utcnow()
    sent = 0
    async with session_scope(deps.sessionmaker) as session:
        for item in await qa_requests.qa_due_for_reminder(session=session, now=now):
            draft = (
                await session.get(GeneratedContent, item.generated_content_id) if item.generated_content_id else None
            )
            label = chat.draft_label(draft) if draft else "a draft"
            await chat.deliver(deps, await qa.reminder_notices(session=session, qa=item, draft_label=label))
            await qa_requests.mark_qa_reminded(session=session, qa=item, now=now)
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
    asset_id = await _chat(deps).submit_link(
        deps, team_id=team_id, channel_id=channel_id, chat_user_id=slack_user_id, link=link, text=text
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
    if not slack_user_id or not file_id:
        return None
    asset_id = await _chat(deps).submit_file(
        deps, team_id=team_id, channel_id=channel_id, chat_user_id=slack_user_id, file_id=file_id
    )
    return str(asset_id) if asset_id else None
