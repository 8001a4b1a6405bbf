"""`/recast setup | link | channel | member | invite | workflow | approvals | submit | connect | connections |
disconnect | calendar | stats | report`.

Everything but `workflow` is acknowledged at once and answered by an ephemeral message from a lazy
listener; `workflow` opens its modal in the ack phase because the trigger id expires within 3 seconds.
"""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bots.slack.blocks import pending_blocks, workflow_modal
from bots.slack.listeners import (
    NOT_LINKED,
    email_lookup,
    identify,
    person_of,
    publish,
    report,
    slack_profile,
    stats,
)
from bots.slack.listeners.setup import show_checklist
from core.common.errors import RecastError
from core.db.session import maintenance_scope, session_scope
from core.deps import CoreDeps
from core.integrations import slack_links, slack_onboarding, slack_people
from core.integrations.errors import WorkspaceNotLinked
from core.integrations.slack_models import SlackWorkspace
from core.integrations.slack_secrets import INVITE_PREFIX
from core.workflow import members, qa

HELP = (
    "Try `/recast setup`, `/recast approvals`, `/recast workflow`, `/recast submit <link or text>`. In a client's "
    "channel: `/recast connect linkedin` connects an account its approved drafts are published to, "
    "`/recast connections` lists them, `/recast disconnect <platform> [account]` removes one, `/recast calendar` "
    "shows the coming week, `/recast stats` shows the client's week so far (`/recast stats <client>` "
    "from anywhere), `/recast report [client] [YYYY-MM]` posts its monthly PDF report. "
    "Owners and admins: `/recast link <organization or invite>`, "
    "`/recast channel <client account>`, `/recast member @someone <role>`; owners: `/recast invite [role]`."
)
LAZY_VERBS = (
    "setup",
    "link",
    "channel",
    "member",
    "invite",
    "install-link",
    "approvals",
    "submit",
    "connect",
    "connections",
    "disconnect",
    "calendar",
    "stats",
    "report",
)
NO_ARG_VERBS = (
    "setup",
    "approvals",
    "invite",
    "install-link",
    "connect",
    "connections",
    "disconnect",
    "calendar",
    "stats",
    "report",
)
MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
SINGLE_LINK = re.compile(r"^<?(https?://[^\s|>]+)(?:\|[^>]*)?>?$")


def _verb(body: dict[str, Any]) -> tuple[str, str]:
    parts = (body.get("text") or "").strip().split(maxsplit=1)
    return (parts[0].lower() if parts else ""), (parts[1].strip() if len(parts) == 2 else "")


def submission(arg: str) -> dict[str, str]:
    """`/recast submit` takes one link (Slack wraps it in <>) or the text itself."""
    if match := SINGLE_LINK.match(arg):
        return {"link": match.group(1)}
    return {"text": html.unescape(arg)}


async def linked_caller(
    session: AsyncSession, client: AsyncWebClient, body: dict[str, Any]
) -> tuple[SlackWorkspace, uuid.UUID | None]:
    """The command's workspace (WorkspaceNotLinked if it has no organization) and the Recast user behind
    the command, None while that Slack user is not linked yet."""
    ws = await slack_links.workspace(session=session, team_id=body["team_id"])
    if ws is None:
        raise WorkspaceNotLinked()
    return ws, await identify(session, client, body)


async def _open_workflow(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    session = context["session"]
    try:
        ws, user_id = await linked_caller(session, client, body)
        if user_id is None:
            await ack(text=NOT_LINKED)
            return
        await members.require_manager(session=session, organization_id=ws.organization_id, user_id=user_id)
    except RecastError as exc:
        await ack(text=exc.user_message)
        return
    await ack()
    client_id = await slack_links.client_for_channel(
        session=session, team_id=body["team_id"], channel_id=body["channel_id"]
    )
    await client.views_open(
        trigger_id=body["trigger_id"], view=workflow_modal(f"{client_id or ''}|{body['channel_id']}")
    )


async def _ack_command(
    deps: CoreDeps, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    verb, arg = _verb(body)
    if verb == "workflow":
        await _open_workflow(ack, body, client, context)
    elif verb == "submit" and arg:
        # Refuse before promising anything: unlinked workspace, unknown person, no workflow here. Committed
        # at once (a person linked by e-mail on the way), since the lazy listener starts right after this.
        try:
            async with session_scope(deps.sessionmaker) as session:
                await slack_people.check_submitter(
                    session=session,
                    team_id=body["team_id"],
                    channel_id=body["channel_id"],
                    slack_user_id=body["user_id"],
                    email=email_lookup(client, body["user_id"]),
                )
        except RecastError as exc:
            await ack(text=f"⚠️ {exc.user_message}")
            return
        await ack(text="Got it — working on it…")
    elif verb in LAZY_VERBS and (arg or verb in NO_ARG_VERBS):
        await ack()
    else:
        await ack(text=HELP)


async def _reply(client: AsyncWebClient, body: dict[str, Any], text: str, **extra: Any) -> None:
    await client.chat_postEphemeral(channel=body["channel_id"], user=body["user_id"], text=text, **extra)


async def _link(deps: CoreDeps, body: dict[str, Any], client: AsyncWebClient, arg: str) -> str:
    """Which organization the workspace is linked to is what this decides (an invite is claimed before its
    organization is known; a workspace may move from one organization to another), so it runs as
    maintenance, like the OAuth install's onboarding; the core checks who may link."""
    if arg.startswith(INVITE_PREFIX):
        person = await person_of(client, body["user_id"], body["team_id"])
        async with maintenance_scope(deps.sessionmaker) as session:
            org, member = await slack_onboarding.redeem_invite(
                session=session,
                secret=deps.settings.secret_keys(),
                code=arg,
                person=person,
                channel_id=body["channel_id"],
            )
            role = await members.member_role(session=session, organization_id=org.id, user_id=member)
            ws = await slack_links.workspace(session=session, team_id=body["team_id"])
            where = f"<#{ws.default_channel_id}>" if ws and ws.default_channel_id else "the default channel"
        return (
            f"✅ This workspace is now linked to *{org.name}* and you are a team {role}. Drafts without a "
            f"client channel are reviewed in {where}. Next: `/recast setup`."
        )
    async with maintenance_scope(deps.sessionmaker) as session:
        org = await slack_links.organization_for(session=session, ref=arg)
        user_id = await identify(session, client, body, organization_id=org.id)
        if user_id is None:
            return (
                f"I can't match your Slack account to a member of *{org.name}* (by Slack id or e-mail). "
                f"Ask its owner for an invite (`/recast invite` in their workspace, or "
                f"`recast org invite {org.slug}` on the Recast server) and run `/recast link <invite>` "
                f"here. To start a new agency for this workspace instead, run `/recast setup`."
            )
        ws = await slack_links.link_workspace_by(
            session=session,
            team_id=body["team_id"],
            channel_id=body["channel_id"],
            organization_id=org.id,
            by_user_id=user_id,
        )
        where = f"<#{ws.default_channel_id}>" if ws.default_channel_id else "the default channel"
    return (
        f"✅ This workspace is now linked to *{org.name}*. Drafts without a client channel are reviewed "
        f"in {where}. Next: run `/recast channel <client account>` in each client's channel."
    )


async def _channel(deps: CoreDeps, body: dict[str, Any], client: AsyncWebClient, arg: str) -> str:
    async with session_scope(deps.sessionmaker) as session:
        _, user_id = await linked_caller(session, client, body)
        if user_id is None:
            return NOT_LINKED
        account, created = await slack_links.link_client_channel(
            session=session, team_id=body["team_id"], channel_id=body["channel_id"], by_user_id=user_id, client=arg
        )
    new = " (a new client account)" if created else ""
    return f"✅ Drafts for *{account.name}*{new} are now reviewed in this channel."


async def _member(deps: CoreDeps, body: dict[str, Any], client: AsyncWebClient, arg: str) -> str:
    parts = arg.split()
    match = MENTION.match(parts[0]) if len(parts) == 2 else None
    if match is None:
        return "Use `/recast member @someone <role>`; roles are owner, admin, manager, creator and client."
    slack_user, role = match.group(1), parts[1]
    email, name = await slack_profile(client, slack_user)
    async with session_scope(deps.sessionmaker) as session:
        ws, user_id = await linked_caller(session, client, body)
        if user_id is None:
            return NOT_LINKED
        row = await slack_links.set_member(
            session=session,
            organization_id=ws.organization_id,
            by_user_id=user_id,
            slack_user_id=slack_user,
            team_id=body["team_id"],
            role=role,
            email=email,
            full_name=name,
        )
    return f"✅ <@{slack_user}> is now a team {row.role} in Recast."


async def _invite(deps: CoreDeps, body: dict[str, Any], client: AsyncWebClient, arg: str = "") -> str:
    async with session_scope(deps.sessionmaker) as session:
        ws, user_id = await linked_caller(session, client, body)
        if user_id is None:
            return NOT_LINKED
        code = await slack_onboarding.create_invite(
            session=session,
            secret=deps.settings.recast_secret_key.get_secret_value(),
            organization_id=ws.organization_id,
            by_user_id=user_id,
            role=arg or "admin",
        )
    text = (
        f"Here is an invite into this organization (good once, for 7 days): `{code}`. Whoever uses it "
        f"joins as {arg or 'admin'}. In a workspace where Recast is installed, they run "
        f"`/recast link {code}`."
    )
    if deps.settings.slack_client_id:
        url = f"{deps.settings.public_base_url.rstrip('/')}/slack/install?invite={code}"
        text += f" To install Recast in another workspace with it, they open <{url}|this link>."
    return text


async def _approvals(deps: CoreDeps, body: dict[str, Any], client: AsyncWebClient) -> None:
    async with session_scope(deps.sessionmaker) as session:
        user_id = await identify(session, client, body)
        home = await qa.home_for(session=session, user_id=user_id)
        linked = await slack_links.workspace(session=session, team_id=body["team_id"]) is not None
    if user_id is None:
        # Nobody to ask in a workspace without an organization: say how to start one.
        await _reply(client, body, NOT_LINKED if linked else WorkspaceNotLinked.user_message)
        return
    await _reply(
        client,
        body,
        f"{len(home.pending)} pending approvals",
        blocks=pending_blocks(home.pending, qa_senders=home.qa_senders),
    )


async def _run_command(deps: CoreDeps, body: dict[str, Any], client: AsyncWebClient) -> None:
    verb, arg = _verb(body)
    if verb == "approvals":
        await _approvals(deps, body, client)
        return
    if verb in ("connect", "connections", "disconnect", "calendar", "stats", "report"):
        if verb == "stats":
            await stats.command(deps, body, client, arg)
        elif verb == "report":
            await report.command(deps, body, client, arg)
        else:
            await publish.command(deps, body, client, verb, arg)
        return
    if verb == "setup":
        await show_checklist(
            deps, client, team_id=body["team_id"], channel_id=body["channel_id"], slack_user=body["user_id"]
        )
        return
    if verb == "submit" and arg:
        async with session_scope(deps.sessionmaker) as session:
            try:
                await slack_people.check_submitter(
                    session=session,
                    team_id=body["team_id"],
                    channel_id=body["channel_id"],
                    slack_user_id=body["user_id"],
                    email=email_lookup(client, body["user_id"]),
                )
            except RecastError:
                return  # the acknowledgement said why
        await deps.enqueue(
            "slack.submit_link",
            team_id=body["team_id"],
            channel_id=body["channel_id"],
            slack_user_id=body["user_id"],
            **submission(arg),
        )
        return
    handlers = {"link": _link, "channel": _channel, "member": _member}
    try:
        if verb in ("invite", "install-link"):
            text = await _invite(deps, body, client, arg)
        elif verb in handlers and arg:
            text = await handlers[verb](deps, body, client, arg)
        else:
            return
    except RecastError as exc:
        text = exc.user_message
    await _reply(client, body, text)


def register(app: AsyncApp, deps: CoreDeps) -> None:
    async def ack_command(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        return await _ack_command(deps, ack=ack, body=body, client=client, context=context)

    async def run_command(body: dict[str, Any], client: AsyncWebClient) -> None:
        return await _run_command(deps, body=body, client=client)

    app.command("/recast")(ack=ack_command, lazy=[run_command])
