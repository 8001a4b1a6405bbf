"""Approve · Request changes · Reject · Why N? buttons."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack import outbox
from bots.slack.blocks import (
    APPROVE,
    CHANGES,
    CHANGES_MODAL,
    REJECT,
    REJECT_MODAL,
    WHY,
    feedback_modal,
    parse_action_value,
)
from bots.slack.listeners import NOT_LINKED, ephemeral, identify, publish
from core.common.errors import RecastError
from core.db.session import session_scope
from core.deps import CoreDeps
from core.repurposing import why
from core.repurposing.errors import DraftNotFound
from core.repurposing.models import GeneratedContent
from core.work import submit as work
from core.workflow import approvals
from core.workflow.errors import NotAnApprover


async def _ack(ack: AsyncAck) -> None:
    await ack()


async def explain(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext) -> None:
    """ "❓ Why N?": the score's checks and reasons, to the person who asked only."""
    await ack()
    request_id, _, _ = parse_action_value(body["actions"][0]["value"])
    session = context["session"]
    user_id = await identify(session, client, body)
    if user_id is None:
        await ephemeral(client, body, NOT_LINKED)
        return
    try:
        request = await approvals.get_request(session=session, request_id=request_id)
        draft_id = request.generated_content_id
        draft = await session.get(GeneratedContent, draft_id) if draft_id is not None else None
        if draft is None:
            raise DraftNotFound()
    except RecastError as exc:
        await ephemeral(client, body, exc.user_message)
        return
    await ephemeral(client, body, why.explain_draft(draft))


def register(app: AsyncApp, deps: CoreDeps) -> None:
    async def approve(body: dict[str, Any], client: AsyncWebClient) -> None:
        request_id, stage, revision = parse_action_value(body["actions"][0]["value"])
        try:
            async with session_scope(deps.sessionmaker) as session:
                user_id = await identify(session, client, body)
                if user_id is None:
                    await ephemeral(client, body, NOT_LINKED)
                    return
                decision = await approvals.approve(
                    session=session,
                    request_id=request_id,
                    by_user_id=user_id,
                    expected_stage=stage,
                    expected_revision=revision,
                )
        except RecastError as exc:
            await ephemeral(client, body, exc.user_message)
            return
        if not decision.applied:
            async with session_scope(deps.sessionmaker) as session:
                text = await approvals.state_text(
                    session=session, request=decision.request, expected_stage=stage, expected_revision=revision
                )
            await ephemeral(client, body, text)
            return
        # Auto-publish: the publishing unit was committed with the approval, and "queued" is said only when the
        # client has an account that can carry the draft. Otherwise the thread is offered Publish now · Schedule
        # per such account, after the announcement.
        queued = decision.final and decision.publish_unit is not None
        if queued:
            queued = await publish.offer_publishing(deps, client, decision)
        if decision.final:  # the creator hears first; the channel's message is redrawn after
            await outbox.tell_people(deps, client, decision, user_id, publishing_queued=queued)
        await outbox.refresh_message(deps, client, request_id)
        if decision.final:
            await outbox.announce_in_channel(deps, client, decision, user_id, publishing_queued=queued)
            if decision.publish_unit is None:
                await publish.offer_publishing(deps, client, decision)
            else:  # after the announcement, so the thread reads in order (a unit nobody wakes, the sweeper does)
                await work.push(deps.work_queue, deps.sessionmaker, [decision.publish_unit])
        await outbox.queue_changed(deps, client, request_id, (stage,), actor=user_id)

    async def open_modal(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await ack()
        action = body["actions"][0]
        request_id, stage, revision = parse_action_value(action["value"])
        session = context["session"]
        user_id = await identify(session, client, body)
        if user_id is None:
            await ephemeral(client, body, NOT_LINKED)
            return
        try:
            request = await approvals.get_request(session=session, request_id=request_id)
            allowed = await approvals.can_act(session=session, request=request, user_id=user_id, stage_no=stage)
        except RecastError as exc:
            await ephemeral(client, body, exc.user_message)
            return
        if not allowed:
            await ephemeral(client, body, NotAnApprover.user_message)
            return
        if request.status != "pending" or request.current_stage != stage or (request.revision_count or 0) != revision:
            await ephemeral(
                client,
                body,
                await approvals.state_text(
                    session=session, request=request, expected_stage=stage, expected_revision=revision
                ),
            )
            return
        kind, title = (
            (CHANGES_MODAL, "Request changes") if action["action_id"] == CHANGES else (REJECT_MODAL, "Reject draft")
        )
        await client.views_open(trigger_id=body["trigger_id"], view=feedback_modal(kind, action["value"], title))

    app.action(APPROVE)(ack=_ack, lazy=[approve])
    app.action(WHY)(explain)
    app.action(CHANGES)(open_modal)
    app.action(REJECT)(open_modal)
