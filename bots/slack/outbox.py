"""Post and update approval messages. Called from lazy listeners and from the `slack.*` tasks."""

from __future__ import annotations

import asyncio
import uuid

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bots.slack.blocks import approval_message, draft_label, source_label, version_of
from bots.slack.home_blocks import home_view
from bots.slack.notices import worded
from bots.slack.stats_blocks import home_figures_blocks
from core.analytics import digest
from core.content.models import ContentAsset
from core.db.session import session_scope
from core.deps import CoreDeps
from core.integrations import slack_installations, slack_links
from core.integrations.slack_secrets import TokenCipher
from core.notify.ports import ChatRef, OutgoingMessage
from core.repurposing.models import GeneratedContent
from core.workflow import approvals, qa, recipients, revision_check
from core.workflow.models import ApprovalRequest

MESSAGE_WAITS, MESSAGE_WAIT_SECONDS = 20, 0.25


def token_cipher(deps: CoreDeps) -> TokenCipher:
    return TokenCipher(deps.settings.secret_keys())


def base_client(deps: CoreDeps) -> AsyncWebClient:
    """A Web API client for work outside a request (tasks): the single-workspace token, if any, and
    SLACK_API_URL when set."""
    settings = deps.settings
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    if settings.slack_api_url:
        return AsyncWebClient(token=token, base_url=settings.slack_api_url)
    return AsyncWebClient(token=token)


async def client_for_team(deps: CoreDeps, team_id: str, base: AsyncWebClient) -> AsyncWebClient:
    """The base client in token mode; in OAuth mode a client with the workspace's (decrypted) bot token."""
    if not deps.settings.slack_client_id:
        return base
    async with session_scope(deps.sessionmaker) as session:
        token = await slack_installations.bot_token_for(
            session=session, client_id=deps.settings.slack_client_id, team_id=team_id, cipher=token_cipher(deps)
        )
    return AsyncWebClient(token=token, base_url=base.base_url) if token else base


async def _source(session: AsyncSession, draft: GeneratedContent) -> str | None:
    asset = await session.get(ContentAsset, draft.content_asset_id) if draft.content_asset_id else None
    return source_label(asset)


async def post_approval(
    deps: CoreDeps, client: AsyncWebClient, draft_id: uuid.UUID, requested_by: uuid.UUID | None = None
) -> ApprovalRequest:
    """Open the draft's approval request and post it to its client's channel (once)."""
    async with session_scope(deps.sessionmaker) as session:
        request = await approvals.submit_for_approval(session=session, draft_id=draft_id, requested_by=requested_by)
        draft = await session.get_one(GeneratedContent, draft_id)
        where = await slack_links.channel_for_draft(session=session, draft=draft)
        posted = await slack_links.message_of(session=session, request_id=request.id)
        stages = await approvals.stages_of(session=session, request=request)
        stage = stages[(request.current_stage or 1) - 1]
        source = await _source(session, draft)
    if where is None or posted is not None:
        return request
    team_id, channel_id = where
    blocks, text = approval_message(draft=draft, request=request, stage=stage, stage_count=len(stages), source=source)
    api = await client_for_team(deps, team_id, client)
    response = await api.chat_postMessage(channel=channel_id, blocks=blocks, text=text, unfurl_links=False)
    async with session_scope(deps.sessionmaker) as session:
        await slack_links.remember_message(
            session=session, request=request, team_id=team_id, channel_id=channel_id, message_ts=str(response["ts"])
        )
    if len(draft.content_text or "") > 2800:
        await api.chat_postMessage(
            channel=channel_id, thread_ts=str(response["ts"]), text=(draft.content_text or "")[:39000]
        )
    return request


def revision_note(request: ApprovalRequest, draft: GeneratedContent) -> str:
    checks = [revision_check.CheckResult(**c) for c in (draft.metadata_ or {}).get("revision_check") or []]
    note = f"Version {version_of(request)}, after feedback: {request.feedback}"
    if checks:
        note += "\n*What changed:*\n" + "\n".join(c.line() for c in checks)
    return note


async def refresh_message(
    deps: CoreDeps, client: AsyncWebClient, request_id: uuid.UUID, *, note: str | None = None
) -> None:
    """Redraw a request's messages in place (stage, status, buttons). Once a new version is in the thread, that
    reply carries the buttons and the message in the channel points to it."""
    for _ in range(MESSAGE_WAITS):
        # A click can come in while the worker that posted the message is still recording where it is.
        async with deps.sessionmaker() as session:
            if await slack_links.message_of(session=session, request_id=request_id) is not None:
                break
        await asyncio.sleep(MESSAGE_WAIT_SECONDS)
    async with session_scope(deps.sessionmaker) as session:
        message = await slack_links.message_of(session=session, request_id=request_id)
        if message is None:
            return
        request = await approvals.get_request(session=session, request_id=request_id)
        draft = await session.get_one(GeneratedContent, request.generated_content_id)
        stages = await approvals.stages_of(session=session, request=request)
        stage = stages[(request.current_stage or 1) - 1] if request.status == "pending" else None
        source = await _source(session, draft)
    api = await client_for_team(deps, message.team_id, client)

    async def redraw(ts: str, note: str | None, *, buttons: bool = True) -> None:
        blocks, text = approval_message(
            draft=draft,
            request=request,
            stage=stage,
            stage_count=len(stages),
            note=note,
            source=source,
            buttons=buttons,
        )
        await api.chat_update(channel=message.channel_id, ts=ts, blocks=blocks, text=text)

    if message.revision_ts is None:
        await redraw(message.message_ts, note)
        return
    pointer = f"Version {version_of(request)} is in this message's thread: review it there."
    await redraw(message.message_ts, note or pointer, buttons=False)
    await redraw(message.revision_ts, revision_note(request, draft))


async def post_revision(deps: CoreDeps, client: AsyncWebClient, request_id: uuid.UUID) -> None:
    """Post the regenerated version, with fresh buttons, in the request's thread; an earlier version's reply
    there loses its buttons."""
    async with session_scope(deps.sessionmaker) as session:
        message = await slack_links.message_of(session=session, request_id=request_id)
        if message is None:
            return
        request = await approvals.get_request(session=session, request_id=request_id)
        draft = await session.get_one(GeneratedContent, request.generated_content_id)
        stages = await approvals.stages_of(session=session, request=request)
        stage = stages[(request.current_stage or 1) - 1]
        source = await _source(session, draft)
    blocks, text = approval_message(
        draft=draft,
        request=request,
        stage=stage,
        stage_count=len(stages),
        note=revision_note(request, draft),
        source=source,
    )
    api = await client_for_team(deps, message.team_id, client)
    posted = await api.chat_postMessage(
        channel=message.channel_id, thread_ts=message.message_ts, blocks=blocks, text=f"New version: {text}"
    )
    async with session_scope(deps.sessionmaker) as session:
        previous = await slack_links.remember_revision(
            session=session, request_id=request_id, revision_ts=str(posted["ts"])
        )
    if previous:
        replaced = f"Version {version_of(request) - 1} was replaced by version {version_of(request)}, below."
        await api.chat_update(
            channel=message.channel_id,
            ts=previous,
            text=replaced,
            blocks=[{"type": "context", "elements": [{"type": "mrkdwn", "text": replaced}]}],
        )


async def deliver(deps: CoreDeps, client: AsyncWebClient, notices: list[recipients.Notice]) -> None:
    """Telegram notices through the notifier; Slack ones as a DM from Recast in the person's workspace."""
    for notice in notices:
        to = notice.recipient
        if to.provider == "telegram":
            await deps.notifier.send(ChatRef("telegram", to.chat_id), OutgoingMessage(text=notice.text))
        elif to.provider == "slack" and to.team_id:
            api = await client_for_team(deps, to.team_id, client)
            await api.chat_postMessage(channel=to.chat_id, text=notice.text)


async def tell_people(
    deps: CoreDeps,
    client: AsyncWebClient,
    decision: approvals.Decision,
    by_user_id: uuid.UUID,
    *,
    publishing_queued: bool = False,
) -> None:
    """The submitter (and, for a later stage's change request, the earlier stages' reviewers) hear the outcome."""
    async with session_scope(deps.sessionmaker) as session:
        draft = await session.get_one(GeneratedContent, decision.request.generated_content_id)
        notices = await recipients.decision_notices(session=session, decision=decision, by_user_id=by_user_id)
    await deliver(deps, client, worded(notices, draft_label(draft), publishing_queued=publishing_queued))


async def announce_in_channel(
    deps: CoreDeps,
    client: AsyncWebClient,
    decision: approvals.Decision,
    by_user_id: uuid.UUID,
    *,
    publishing_queued: bool = False,
) -> None:
    """A final decision (approved or rejected) is said in the request's thread and shown in the channel;
    publishing is mentioned only when it was queued."""
    async with session_scope(deps.sessionmaker) as session:
        message = await slack_links.message_of(session=session, request_id=decision.request.id)
        if message is None:
            return
        draft = await session.get_one(GeneratedContent, decision.request.generated_content_id)
        by = await slack_links.slack_user_of(session=session, user_id=by_user_id)
        submitter = (
            await slack_links.slack_user_of(session=session, user_id=decision.request.requested_by)
            if decision.request.requested_by
            else None
        )
    who = f"<@{by}>" if by else "a reviewer"
    status = decision.request.status
    if status == "approved":
        text = f"✅ {draft_label(draft)} was approved by {who}" + (
            " and is queued for publishing." if publishing_queued else "."
        )
    elif status == "rejected":
        text = f"❌ {draft_label(draft)} was rejected by {who}. Reason: {decision.request.feedback}"
    else:
        return
    if submitter:
        text += f" cc <@{submitter}>"
    api = await client_for_team(deps, message.team_id, client)
    await api.chat_postMessage(
        channel=message.channel_id, thread_ts=message.message_ts, reply_broadcast=True, text=text
    )


async def refresh_homes(deps: CoreDeps, client: AsyncWebClient, user_ids: set[uuid.UUID]) -> None:
    """Republish the Home tab of everyone whose queue changed (in each workspace they use Recast from)."""
    async with session_scope(deps.sessionmaker) as session:
        people = [
            r
            for r in await recipients.recipients_of(session=session, user_ids=sorted(user_ids))
            if r.provider == "slack" and r.team_id
        ]
        views = [
            (
                r,
                await qa.home_for(session=session, user_id=r.user_id),
                home_figures_blocks(await digest.home_figures(session, r.user_id)),
            )
            for r in people
        ]
    for person, home, figures in views:
        api = await client_for_team(deps, str(person.team_id), client)
        await api.views_publish(
            user_id=person.chat_id,
            view=home_view(home.pending, home.qa, qa_senders=home.qa_senders, figures=figures),
        )


async def queue_changed(
    deps: CoreDeps,
    client: AsyncWebClient,
    request_id: uuid.UUID,
    stages: tuple[int, ...],
    *,
    actor: uuid.UUID | None = None,
) -> None:
    """After a decision: the people of the stage it left and of the stage it is at now (and whoever acted)."""
    async with session_scope(deps.sessionmaker) as session:
        request = await approvals.get_request(session=session, request_id=request_id)
        now = (request.current_stage or 1,) if request.status == "pending" else ()
        people: set[uuid.UUID] = {actor} if actor else set()
        for stage_no in {*stages, *now}:
            people |= await recipients.stage_people(session=session, request=request, stage_no=stage_no)
    await refresh_homes(deps, client, people)


async def ask_for_revision(deps: CoreDeps, request: ApprovalRequest, by_user_id: uuid.UUID) -> None:
    """Changes were asked for (by a reviewer or a failed QA): a worker writes the new version (`slack.revise`)."""
    await deps.enqueue(
        "slack.revise", request_id=str(request.id), revision=request.revision_count or 0, by_user_id=str(by_user_id)
    )


async def revision_ready(deps: CoreDeps, client: AsyncWebClient, request_id: uuid.UUID) -> None:
    """A new version was written (by the `slack.revise` task): it is posted in the thread with fresh buttons,
    and the queues it is back in are redrawn."""
    await post_revision(deps, client, request_id)
    await refresh_message(deps, client, request_id)
    await queue_changed(deps, client, request_id, ())
