"""Modal submissions: change requests, rejections and workflow definitions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack import outbox
from bots.slack.blocks import CHANGES_MODAL, REJECT_MODAL, WORKFLOW_MODAL, parse_action_value
from bots.slack.listeners import identify
from core.accounts.models import ClientAccount
from core.common.errors import RecastError
from core.db.session import session_scope
from core.deps import CoreDeps
from core.integrations import slack_links, slack_people
from core.workflow import approvals, workflows
from core.workflow.errors import NotAManager
from core.workflow.models import ApprovalRequest


def _feedback(body: dict[str, Any]) -> str:
    return str(body["view"]["state"]["values"]["feedback"]["text"].get("value") or "").strip()


async def _dm(client: AsyncWebClient, body: dict[str, Any], text: str) -> None:
    await client.chat_postMessage(channel=body["user"]["id"], text=text)


async def _state(deps: CoreDeps, request: ApprovalRequest, stage: int, revision: int) -> str:
    async with session_scope(deps.sessionmaker) as session:
        return await approvals.state_text(
            session=session, request=request, expected_stage=stage, expected_revision=revision
        )


def _stages(values: dict[str, Any]) -> list[dict[str, Any]]:
    raw = []
    for n in (1, 2, 3):
        name = (values.get(f"stage{n}_name", {}).get("value", {}) or {}).get("value")
        if not name:
            continue
        users = (values.get(f"stage{n}_users", {}).get("value", {}) or {}).get("selected_users") or []
        role = ((values.get(f"stage{n}_role", {}).get("value", {}) or {}).get("selected_option") or {}).get("value")
        raw.append({"order": n, "name": name, "slack_users": users, "role": role})
    return raw


def _auto_publish(values: dict[str, Any]) -> bool:
    selected = (values.get("auto_publish", {}).get("value", {}) or {}).get("selected_options") or []
    return any(option.get("value") == "yes" for option in selected)


@dataclass(frozen=True)
class Decided:
    decision: approvals.Decision
    user_id: uuid.UUID
    stage: int


async def _ack_feedback(ack: AsyncAck, body: dict[str, Any]) -> None:
    if not _feedback(body):
        await ack(response_action="errors", errors={"feedback": "Please write a few words."})
        return
    await ack()


async def _decide(deps: CoreDeps, body: dict[str, Any], client: AsyncWebClient, *, changes: bool) -> Decided | None:
    """Ask for changes or reject with the form's text; None when nothing changed (and the person was told)."""
    request_id, stage, revision = parse_action_value(body["view"]["private_metadata"])
    text = _feedback(body)
    if not text:  # the form showed its inline error and stays open; nothing else to say
        return None
    try:
        async with session_scope(deps.sessionmaker) as session:
            user_id = await identify(session, client, body)
            if user_id is None:
                return None
            seen: dict[str, Any] = {"expected_stage": stage, "expected_revision": revision}
            decision = await (
                approvals.request_changes(
                    session=session, request_id=request_id, by_user_id=user_id, feedback=text, **seen
                )
                if changes
                else approvals.reject(session=session, request_id=request_id, by_user_id=user_id, reason=text, **seen)
            )
    except RecastError as exc:
        await _dm(client, body, exc.user_message)
        return None
    if not decision.applied:
        await _dm(client, body, await _state(deps, decision.request, stage, revision))
        return None
    return Decided(decision, user_id, stage)


async def _changes(deps: CoreDeps, body: dict[str, Any], client: AsyncWebClient) -> None:
    done = await _decide(deps, body, client, changes=True)
    if done is None:
        return
    request_id = done.decision.request.id
    await outbox.refresh_message(deps, client, request_id, note="A new version is being written…")
    await outbox.tell_people(deps, client, done.decision, done.user_id)
    await outbox.queue_changed(deps, client, request_id, (done.stage,), actor=done.user_id)
    await outbox.ask_for_revision(deps, done.decision.request, done.user_id)


async def _reject(deps: CoreDeps, body: dict[str, Any], client: AsyncWebClient) -> None:
    done = await _decide(deps, body, client, changes=False)
    if done is None:
        return
    request_id = done.decision.request.id
    await outbox.tell_people(deps, client, done.decision, done.user_id)
    await outbox.refresh_message(deps, client, request_id)
    await outbox.announce_in_channel(deps, client, done.decision, done.user_id)
    await outbox.queue_changed(deps, client, request_id, (done.stage,), actor=done.user_id)


async def _save_workflow(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    session = context["session"]
    values = body["view"]["state"]["values"]
    meta, _, channel_id = (body["view"].get("private_metadata") or "").partition("|")
    team_id = body["user"].get("team_id") or (body.get("team") or {}).get("id")
    try:
        user_id = await identify(session, client, body)
        ws = await slack_links.workspace(session=session, team_id=str(team_id))
        if user_id is None or ws is None:
            raise NotAManager()
        stages: list[dict[str, Any]] = []
        lines: list[str] = []
        for item in _stages(values):
            slack_users = item.pop("slack_users")
            approvers = await slack_people.approvers_of(session=session, slack_user_ids=slack_users)
            stages.append({**item, "approvers": [str(a) for a in approvers]})
            who = [f"<@{u}>" for u in slack_users] + (
                [f"anyone with the {item['role']} role"] if item.get("role") else []
            )
            lines.append(f"{len(lines) + 1}. *{item['name']}*: {' or '.join(who) or 'nobody'}")
        parsed = workflows.parse_stages(stages)
        client_account_id = uuid.UUID(meta) if meta else None
        saved = await workflows.save_workflow(
            session=session,
            organization_id=ws.organization_id,
            by_user_id=user_id,
            name=values["name"]["value"]["value"] or "Approvals",
            stages=parsed,
            client_account_id=client_account_id,
            auto_publish=_auto_publish(values),
        )
        scope = (await session.get_one(ClientAccount, client_account_id)).name if client_account_id else None
    except RecastError as exc:
        await ack(response_action="errors", errors={"stage1_name": exc.user_message})
        return
    await ack()
    covers = f"drafts for *{scope}*" if scope else "drafts without a client workflow of their own"
    text = f"✅ Saved the workflow *{saved.name}* for {covers}:\n" + "\n".join(lines)
    if saved.auto_publish:
        text += "\nApproved drafts are published at once on their client's connected accounts."
    if channel_id:
        await client.chat_postEphemeral(channel=channel_id, user=body["user"]["id"], text=text)
    else:
        await _dm(client, body, text)


def register(app: AsyncApp, deps: CoreDeps) -> None:
    async def changes(body: dict[str, Any], client: AsyncWebClient) -> None:
        return await _changes(deps, body=body, client=client)

    async def reject(body: dict[str, Any], client: AsyncWebClient) -> None:
        return await _reject(deps, body=body, client=client)

    app.view(CHANGES_MODAL)(ack=_ack_feedback, lazy=[changes])
    app.view(REJECT_MODAL)(ack=_ack_feedback, lazy=[reject])
    app.view(WORKFLOW_MODAL)(_save_workflow)
