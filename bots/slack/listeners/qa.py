"""Human QA: Send to QA (a modal: review, priority, note) on approval messages and in App Home, and the QA
queue's Pass · Fail with note. Modals open in the ack phase (the trigger id expires within 3 seconds)."""

from __future__ import annotations

import uuid
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack import outbox
from bots.slack.blocks import QA_FAIL, QA_FAIL_MODAL, QA_MODAL, QA_PASS, QA_SEND, draft_label, parse_action_value
from bots.slack.home_blocks import qa_fail_modal, qa_modal
from bots.slack.listeners import NOT_LINKED, ephemeral, identify
from core.common.errors import RecastError
from core.db.session import session_scope
from core.deps import CoreDeps
from core.repurposing.models import GeneratedContent
from core.workflow import approvals, members, qa, qa_requests, workflows

NOT_A_SENDER = "Only the organization's owners, admins and managers send drafts to QA."


def _selected(values: dict[str, Any], block: str) -> str:
    return str(((values.get(block, {}).get("value", {}) or {}).get("selected_option") or {}).get("value") or "")


def _note(body: dict[str, Any]) -> str:
    return str(body["view"]["state"]["values"]["feedback"]["text"].get("value") or "").strip()


async def _ack(ack: AsyncAck) -> None:
    await ack()


async def _open_send(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext) -> None:
    await ack()
    request_id, stage, revision = parse_action_value(body["actions"][0]["value"])
    session = context["session"]
    user_id = await identify(session, client, body)
    if user_id is None:
        await ephemeral(client, body, NOT_LINKED)
        return
    try:
        request = await approvals.get_request(session=session, request_id=request_id)
        if request.status != "pending":
            await ephemeral(
                client,
                body,
                await approvals.state_text(
                    session=session, request=request, expected_stage=stage, expected_revision=revision
                ),
            )
            return
        if not await qa.may_send(session=session, request=request, user_id=user_id):
            await ephemeral(client, body, NOT_A_SENDER)
            return
        draft = await session.get_one(GeneratedContent, request.generated_content_id)
    except RecastError as exc:
        await ephemeral(client, body, exc.user_message)
        return
    await client.views_open(trigger_id=body["trigger_id"], view=qa_modal(str(request.id), draft))


async def _send(deps: CoreDeps, body: dict[str, Any], client: AsyncWebClient) -> None:
    values = body["view"]["state"]["values"]
    note = str((values.get("note", {}).get("value", {}) or {}).get("value") or "").strip() or None
    try:
        async with session_scope(deps.sessionmaker) as session:
            user_id = await identify(session, client, body)
            if user_id is None:
                raise RecastError(NOT_LINKED)
            sent = await qa.send_to_qa(
                session=session,
                request_id=uuid.UUID(body["view"]["private_metadata"]),
                by_user_id=user_id,
                qa_type=_selected(values, "qa_type"),
                priority=_selected(values, "priority"),
                note=note,
            )
            people = await qa.reviewers(session=session, organization_id=sent.organization_id)
    except RecastError as exc:
        await ephemeral(client, body, exc.user_message)
        return
    item, label = sent.qa, draft_label(sent.draft)
    what = f"{qa.type_label(item.qa_type)}, {item.priority} priority, due {qa.due_text(item.due_at)}"
    if not sent.created:
        text = f"🔍 {label} is already waiting for QA ({what}): nothing new was sent."
    elif people - {user_id}:
        text = (
            f"🔍 Sent {label} to QA ({what}). The organization's other owners, admins and managers see it "
            "in the QA queue on Recast's Home tab; you'll hear the outcome here."
        )
    else:
        text = (
            f"🔍 Sent {label} to QA ({what}), but nobody else can review it yet: QA is done by an owner, "
            "admin or manager other than whoever asked for it."
        )
    await ephemeral(client, body, text)
    await outbox.refresh_homes(deps, client, people)


async def _open_fail(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext) -> None:
    await ack()
    qa_id = uuid.UUID(body["actions"][0]["value"])
    session = context["session"]
    user_id = await identify(session, client, body)
    if user_id is None:
        await ephemeral(client, body, NOT_LINKED)
        return
    try:
        item = await qa.get(session=session, qa_id=qa_id)
        if item.status not in qa_requests.QA_OPEN_STATUSES:
            await ephemeral(
                client,
                body,
                qa.closed_text(item, await members.display_name(session=session, user_id=item.assigned_to)),
            )
            return
        draft = await session.get_one(GeneratedContent, item.generated_content_id)
        org = (await workflows.draft_scope(session=session, draft=draft)).organization_id
        if not await qa.may_review(session=session, organization_id=org, user_id=user_id):
            raise qa.NotAQAReviewer()
        if item.user_id == user_id:
            raise qa.OwnQARequest()
    except RecastError as exc:
        await ephemeral(client, body, exc.user_message)
        return
    await client.views_open(trigger_id=body["trigger_id"], view=qa_fail_modal(qa_id))


async def _ack_fail(ack: AsyncAck, body: dict[str, Any]) -> None:
    if not _note(body):
        await ack(response_action="errors", errors={"feedback": qa.QANeedsNote.user_message})
        return
    await ack()


async def _decide(
    deps: CoreDeps, body: dict[str, Any], client: AsyncWebClient, qa_id: uuid.UUID, passed: bool, note: str | None
) -> None:
    try:
        async with session_scope(deps.sessionmaker) as session:
            user_id = await identify(session, client, body)
            if user_id is None:
                raise RecastError(NOT_LINKED)
            outcome = await qa.finish_qa(session=session, qa_id=qa_id, reviewer_id=user_id, passed=passed, note=note)
            label = draft_label(outcome.draft)
            closed_by = await members.display_name(session=session, user_id=outcome.qa.assigned_to)
            notices = await qa.outcome_notices(session=session, outcome=outcome, draft_label=label, by_user_id=user_id)
            people = await qa.reviewers(session=session, organization_id=outcome.organization_id)
    except RecastError as exc:
        await ephemeral(client, body, exc.user_message)
        return
    if not outcome.applied:
        await ephemeral(client, body, qa.closed_text(outcome.qa, closed_by))
        await outbox.refresh_homes(deps, client, {user_id})
        return
    back = outcome.sent_back
    if back is not None:
        await outbox.refresh_message(
            deps, client, back.request.id, note=f"QA failed: {outcome.qa.feedback}. A new version is being written…"
        )
    await outbox.deliver(deps, client, notices)
    verdict = "passed" if outcome.passed else "failed"
    told = "" if notices else " Nobody else could be told: the requester and the submitter have no chats."
    await ephemeral(
        client,
        body,
        f"Recorded: {label} {verdict} QA." + (" It went back for changes." if back is not None else "") + told,
    )
    await outbox.refresh_homes(deps, client, people | {user_id})
    if back is not None:
        await outbox.queue_changed(deps, client, back.request.id, (back.stage_no,), actor=user_id)
        await outbox.ask_for_revision(deps, back.request, user_id)


async def _passed(deps: CoreDeps, body: dict[str, Any], client: AsyncWebClient) -> None:
    await _decide(deps, body, client, uuid.UUID(body["actions"][0]["value"]), True, None)


async def _failed(deps: CoreDeps, body: dict[str, Any], client: AsyncWebClient) -> None:
    if not _note(body):  # the form showed its inline error and stays open
        return
    await _decide(deps, body, client, uuid.UUID(body["view"]["private_metadata"]), False, _note(body))


def register(app: AsyncApp, deps: CoreDeps) -> None:
    async def send(body: dict[str, Any], client: AsyncWebClient) -> None:
        return await _send(deps, body=body, client=client)

    async def passed(body: dict[str, Any], client: AsyncWebClient) -> None:
        return await _passed(deps, body=body, client=client)

    async def failed(body: dict[str, Any], client: AsyncWebClient) -> None:
        return await _failed(deps, body=body, client=client)

    app.action(QA_SEND)(_open_send)
    app.view(QA_MODAL)(ack=_ack, lazy=[send])
    app.action(QA_PASS)(ack=_ack, lazy=[passed])
    app.action(QA_FAIL)(_open_fail)
    app.view(QA_FAIL_MODAL)(ack=_ack_fail, lazy=[failed])
