"""`/recast setup` and its buttons: link (start an agency) → a client channel → a one-stage workflow → a test
submission. Every button does its step and answers with the checklist as it now stands."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.listeners import NOT_LINKED, ephemeral, identify, is_workspace_admin, person_of, slack_ids
from bots.slack.setup_blocks import (
    SETUP_CHANNEL,
    SETUP_CHANNEL_MODAL,
    SETUP_START,
    SETUP_TEST,
    SETUP_WORKFLOW,
    setup_blocks,
    setup_channel_modal,
)
from core.common.errors import RecastError
from core.db.session import acting_for, maintenance_scope, session_scope
from core.deps import CoreDeps
from core.integrations import slack_links, slack_onboarding, slack_people
from core.integrations.errors import WorkspaceNotLinked


async def workspace_name(client: AsyncWebClient) -> str:
    try:
        return str((await client.auth_test()).get("team") or "this workspace")
    except SlackApiError:
        return "this workspace"


async def show_checklist(
    deps: CoreDeps,
    client: AsyncWebClient,
    *,
    team_id: str,
    channel_id: str | None,
    slack_user: str,
    note: str | None = None,
) -> None:
    """Post the checklist for `slack_user` (ephemeral in the channel, else a DM)."""
    async with session_scope(deps.sessionmaker) as session:
        ws = await slack_links.workspace(session=session, team_id=team_id)
        user_id = await identify(session, client, {"user_id": slack_user, "team_id": team_id})
        state = await slack_onboarding.setup_state(
            session=session, team_id=team_id, channel_id=channel_id, user_id=user_id
        )
    can_start = slack_people.can_start_agency(ws, slack_admin=await is_workspace_admin(client, slack_user))
    blocks, text = setup_blocks(state, workspace_name=await workspace_name(client), can_start=can_start, note=note)
    if channel_id:
        await client.chat_postEphemeral(channel=channel_id, user=slack_user, text=text, blocks=blocks)
    else:
        await client.chat_postMessage(channel=slack_user, text=text, blocks=blocks)


async def _ack(ack: AsyncAck) -> None:
    await ack()


async def _start(deps: CoreDeps, body: dict[str, Any], client: AsyncWebClient) -> None:
    slack_user, team_id, channel_id = slack_ids(body)
    if not team_id:
        return
    try:
        slack_people.require_workspace_admin(slack_admin=await is_workspace_admin(client, slack_user))
    except RecastError as exc:
        await ephemeral(client, body, exc.user_message)
        return
    person = await person_of(client, slack_user, team_id)
    try:
        # No organization acts yet: which one this workspace is (none, or one a concurrent click just linked)
        # is what is being decided, as in the OAuth install's onboarding.
        async with maintenance_scope(deps.sessionmaker) as session:
            org, _ = await slack_onboarding.start_agency(
                session=session,
                team_id=team_id,
                team_name=await workspace_name(client),
                person=person,
                channel_id=channel_id,
            )
    except RecastError as exc:
        await ephemeral(client, body, exc.user_message)
        return
    with acting_for(org.id):  # the request began in a workspace no organization had
        await show_checklist(
            deps,
            client,
            team_id=team_id,
            channel_id=channel_id,
            slack_user=slack_user,
            note=f"🎉 *{org.name}* is ready and you are its owner.",
        )


async def _open_channel_modal(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
    await ack()
    _, _, channel_id = slack_ids(body)
    await client.views_open(trigger_id=body["trigger_id"], view=setup_channel_modal(channel_id or ""))


async def _ack_channel(ack: AsyncAck, body: dict[str, Any]) -> None:
    name = (body["view"]["state"]["values"]["client"]["value"].get("value") or "").strip()
    if not name:
        await ack(response_action="errors", errors={"client": "Name the client, e.g. Acme Foods."})
        return
    await ack()


async def _link_channel(deps: CoreDeps, body: dict[str, Any], client: AsyncWebClient) -> None:
    slack_user, team_id, _ = slack_ids(body)
    channel_id = body["view"].get("private_metadata") or None
    name = (body["view"]["state"]["values"]["client"]["value"].get("value") or "").strip()
    if not team_id or not channel_id:
        return
    try:
        async with session_scope(deps.sessionmaker) as session:
            user_id = await identify(session, client, body)
            if user_id is None:
                raise RecastError(NOT_LINKED)
            account, created = await slack_links.link_client_channel(
                session=session, team_id=team_id, channel_id=channel_id, by_user_id=user_id, client=name
            )
            ws = await slack_links.workspace(session=session, team_id=team_id)
            if ws is not None and ws.default_channel_id is None:
                ws.default_channel_id = channel_id
    except RecastError as exc:
        await client.chat_postEphemeral(channel=channel_id, user=slack_user, text=exc.user_message)
        return
    new = " (a new client account)" if created else ""
    await show_checklist(
        deps,
        client,
        team_id=team_id,
        channel_id=channel_id,
        slack_user=slack_user,
        note=f"✅ Drafts for *{account.name}*{new} are now reviewed in this channel.",
    )


async def _workflow(deps: CoreDeps, body: dict[str, Any], client: AsyncWebClient) -> None:
    slack_user, team_id, channel_id = slack_ids(body)
    if not team_id:
        return
    try:
        async with session_scope(deps.sessionmaker) as session:
            ws = await slack_links.workspace(session=session, team_id=team_id)
            if ws is None:
                raise WorkspaceNotLinked()
            user_id = await identify(session, client, body)
            if user_id is None:
                raise RecastError(NOT_LINKED)
            saved = await slack_onboarding.default_workflow(
                session=session, organization_id=ws.organization_id, by_user_id=user_id
            )
            name = saved.name
    except RecastError as exc:
        await ephemeral(client, body, exc.user_message)
        return
    await show_checklist(
        deps,
        client,
        team_id=team_id,
        channel_id=channel_id,
        slack_user=slack_user,
        note=f"✅ Saved the workflow *{name}*: one stage, “{slack_onboarding.DEFAULT_STAGE}”, "
        f"approved by <@{slack_user}>. `/recast workflow` changes it.",
    )


async def _test_submission(deps: CoreDeps, body: dict[str, Any], client: AsyncWebClient) -> None:
    slack_user, team_id, channel_id = slack_ids(body)
    if not team_id or not channel_id:
        return
    await deps.enqueue(
        "slack.submit_link",
        team_id=team_id,
        channel_id=channel_id,
        slack_user_id=slack_user,
        text=slack_onboarding.SAMPLE_SUBMISSION,
    )


def register(app: AsyncApp, deps: CoreDeps) -> None:
    async def start(body: dict[str, Any], client: AsyncWebClient) -> None:
        return await _start(deps, body=body, client=client)

    async def link_channel(body: dict[str, Any], client: AsyncWebClient) -> None:
        return await _link_channel(deps, body=body, client=client)

    async def workflow(body: dict[str, Any], client: AsyncWebClient) -> None:
        return await _workflow(deps, body=body, client=client)

    async def test_submission(body: dict[str, Any], client: AsyncWebClient) -> None:
        return await _test_submission(deps, body=body, client=client)

    app.action(SETUP_START)(ack=_ack, lazy=[start])
    app.action(SETUP_CHANNEL)(_open_channel_modal)
    app.view(SETUP_CHANNEL_MODAL)(ack=_ack_channel, lazy=[link_channel])
    app.action(SETUP_WORKFLOW)(ack=_ack, lazy=[workflow])
    app.action(SETUP_TEST)(ack=_ack, lazy=[test_submission])
