"""`/recast workflow | approvals | submit <link>`."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.blocks import pending_blocks, workflow_modal
from bots.slack.listeners import NOT_LINKED, recast_user
from core.db.session import session_scope
from core.deps import CoreDeps
from core.workflow import service as wf
from core.workflow import slack_links

HELP = "Try `/recast approvals`, `/recast workflow` or `/recast submit <link>`."


def register(app: AsyncApp, deps: CoreDeps) -> None:
    async def ack_command(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient,
                          context: AsyncBoltContext) -> None:
        sub = (body.get("text") or "").strip().split(maxsplit=1)
        verb = sub[0].lower() if sub else ""
        if verb == "workflow":
            await ack()
            session = context["session"]
            client_id = await slack_links.client_for_channel(session=session, team_id=body["team_id"],
                                                            channel_id=body["channel_id"])
            await client.views_open(trigger_id=body["trigger_id"], view=workflow_modal(str(client_id or "")))
        elif verb == "approvals":
            await ack()
        elif verb == "submit" and len(sub) == 2:
            await ack(text="Got it — I'll post the drafts here for review when they're ready.")
        else:
            await ack(text=HELP)

    async def run_command(body: dict[str, Any], client: AsyncWebClient) -> None:
        sub = (body.get("text") or "").strip().split(maxsplit=1)
        verb = sub[0].lower() if sub else ""
        if verb == "approvals":
            async with session_scope(deps.sessionmaker) as session:
                user_id = await recast_user(session, body)
                items = [] if user_id is None else await wf.pending_for_user(session=session, user_id=user_id)
            if user_id is None:
                await client.chat_postEphemeral(channel=body["channel_id"], user=body["user_id"], text=NOT_LINKED)
                return
            await client.chat_postEphemeral(channel=body["channel_id"], user=body["user_id"],
                                            blocks=pending_blocks(items), text=f"{len(items)} pending approvals")
        elif verb == "submit" and len(sub) == 2:
            await deps.enqueue("slack.submit_link", team_id=body["team_id"], channel_id=body["channel_id"],
                               slack_user_id=body["user_id"], link=sub[1].strip("<>").split("|")[0])

    app.command("/recast")(ack=ack_command, lazy=[run_command])
