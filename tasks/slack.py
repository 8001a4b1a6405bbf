"""Slack tasks: post a draft for team approval, QA reminders, and content submitted from Slack.

Why these import the Slack adapter (lazily): Block Kit rendering and the per-workspace token live in
`bots/slack`; the notifier port carries plain text only, too little for an approval message.
"""

from __future__ import annotations

import re
import uuid

import aiohttp
from taskiq import TaskiqDepends

from core.common.clock import utcnow
from core.common.errors import RecastError
from core.content import service as content
from core.db.session import session_scope
from core.deps import CoreDeps
from core.notify.ports import ChatRef, OutgoingMessage
from core.workflow import service as wf
from core.workflow import slack_links
from tasks.registry import task

MAX_LINK_BYTES = 2 * 1024 * 1024


def _client(deps: CoreDeps) -> object:
    from slack_sdk.web.async_client import AsyncWebClient

    token = deps.settings.slack_bot_token.get_secret_value() if deps.settings.slack_bot_token else None
    return AsyncWebClient(token=token)


@task("slack.post_approval")
async def post_approval(draft_id: str, requested_by: str | None = None, deps: CoreDeps = TaskiqDepends()) -> None:
    """Open the draft's approval request and post it to its client's Slack channel (once)."""
    from bots.slack import outbox

    await outbox.post_approval(deps, _client(deps), uuid.UUID(draft_id),  # type: ignore[arg-type]
                               uuid.UUID(requested_by) if requested_by else None)


@task("slack.qa_reminders")
async def qa_reminders(deps: CoreDeps = TaskiqDepends()) -> int:
    """Remind whoever asked for QA (in their chats) before a review misses its SLA; once per request."""
    now = utcnow()
    sent = 0
    async with session_scope(deps.sessionmaker) as session:
        for qa in await wf.qa_due_for_reminder(session=session, now=now):
            due = qa.due_at.strftime("%d %b %H:%M UTC") if qa.due_at else "soon"
            text = f"⏰ QA review ({qa.qa_type}, {qa.priority}) is due {due} and isn't done yet."
            chats = await wf.creator_chats(session=session, user_id=qa.user_id)
            slack_user = await slack_links.slack_user_of(session=session, user_id=qa.user_id) if qa.user_id else None
            if slack_user:
                chats.append(ChatRef("slack", slack_user))
            for chat in chats:
                await deps.notifier.send(chat, OutgoingMessage(text=text))
            await wf.mark_qa_reminded(session=session, qa=qa, now=now)
            sent += 1
    return sent


def _plain_text(body: str, content_type: str) -> str:
    if "html" not in content_type:
        return body
    body = re.sub(r"(?is)<(script|style)[^>]*>.*?</\1>", " ", body)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip()


@task("slack.submit_link")
async def submit_link(
    team_id: str, channel_id: str, slack_user_id: str, link: str, deps: CoreDeps = TaskiqDepends()
) -> str | None:
    """`/recast submit <link>`: fetch an article's text, store it as the channel's client content and
    start the pipeline. Audio/video links need the media fetcher and are refused with a message."""
    async with session_scope(deps.sessionmaker) as session:
        user_id = await slack_links.recast_user(session=session, slack_user_id=slack_user_id)
        ws = await slack_links.workspace(session=session, team_id=team_id)
        client_id = await slack_links.client_for_channel(session=session, team_id=team_id, channel_id=channel_id)
    if user_id is None or ws is None or not link.startswith(("http://", "https://")):
        return None
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as http, http.get(link) as resp:
        kind = resp.headers.get("Content-Type", "")
        if resp.status != 200 or not kind.startswith("text/"):
            return None
        text = _plain_text((await resp.content.read(MAX_LINK_BYTES)).decode("utf-8", "replace"), kind)
    try:
        async with session_scope(deps.sessionmaker) as session:
            asset = await content.ingest_text(session=session, store=deps.store, user_id=user_id,
                                              organization_id=ws.organization_id, text=text,
                                              source_platform="slack", source_url=link)
            asset.client_account_id = client_id
            asset_id = str(asset.id)
    except RecastError:
        return None
    await deps.enqueue("pipeline.process_asset", asset_id=asset_id)
    return asset_id


@task("slack.submit_file")
async def submit_file(
    team_id: str, channel_id: str | None, slack_user_id: str | None, file_id: str | None,
    deps: CoreDeps = TaskiqDepends(),
) -> None:
    """File shares: accepted and recorded; downloading `url_private` into the pipeline is not built yet."""
    async with session_scope(deps.sessionmaker) as session:
        user_id = await slack_links.recast_user(session=session, slack_user_id=slack_user_id or "")
        from core.system import audit

        await audit.record(session=session, action="slack_file_shared", user_id=user_id,
                           metadata={"team_id": team_id, "channel_id": channel_id, "file_id": file_id})
