"""Publishing from Slack: `/recast connect <platform>` and `/recast connections` for the channel's client
account, and Publish now · Schedule on an approved draft's thread (Schedule opens its modal in the ack
phase: the trigger id expires within 3 seconds)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bots.slack import outbox
from bots.slack.listeners import NOT_LINKED, ephemeral, identify
from bots.slack.publish_blocks import (
    CONNECT_LINK,
    PUBLISH_NOW,
    SCHEDULE,
    SCHEDULE_MODAL,
    connect_blocks,
    offer_blocks,
    parse_publish_value,
    schedule_modal,
)
from core.accounts.models import ClientAccount
from core.common.clock import utcnow
from core.common.errors import RecastError
from core.db.session import session_scope
from core.deps import CoreDeps
from core.distribution import agency, connect, connections, service, slots
from core.distribution.connections import Owner
from core.distribution.models import ConnectionStatus, PlatformConnection, PostStatus, ScheduledPost
from core.distribution.notices import caption_preview, local_time
from core.distribution.platforms.names import Platform, label
from core.integrations import slack_links
from core.integrations.errors import WorkspaceNotLinked
from core.work import submit as work
from core.workflow import approvals

NOT_SET_UP = (
    "Publishing isn't set up on this server yet: its operator adds a platform's app keys first (README, “Publishing”)."
)
NO_CLIENT = (
    "This channel isn't linked to a client account, so there's nobody to connect an account for. "
    "Run `/recast channel <client>` here first."
)


@dataclass(frozen=True)
class ChannelClient:
    client: ClientAccount
    user_id: uuid.UUID

    @property
    def owner(self) -> Owner:
        return Owner(self.user_id, self.client.id, self.client.organization_id)


async def _channel_client(session: AsyncSession, client: AsyncWebClient, body: dict[str, Any]) -> ChannelClient | str:
    """The channel's client account and the team member asking, or what to say instead."""
    ws = await slack_links.workspace(session=session, team_id=body["team_id"])
    if ws is None:
        return WorkspaceNotLinked.user_message
    user_id = await identify(session, client, body)
    if user_id is None:
        return NOT_LINKED
    client_id = await slack_links.client_for_channel(
        session=session, team_id=body["team_id"], channel_id=body["channel_id"]
    )
    account = await session.get(ClientAccount, client_id) if client_id else None
    if account is None or account.organization_id != ws.organization_id:
        return NO_CLIENT
    try:
        await agency.require_publisher(session, account, user_id)
    except RecastError as exc:
        return exc.user_message
    return ChannelClient(account, user_id)


def _pick(available: list[Platform], wanted: str) -> list[Platform] | str:
    """The platforms asked for, or why none can be."""
    if not wanted:
        return available
    name = {"twitter": "x"}.get(wanted.strip().lower(), wanted.strip().lower())
    if name in available:
        return [Platform(name)]
    offered = ", ".join(f"`/recast connect {p}`" for p in available)
    if name in {str(p) for p in Platform}:
        return f"{label(name)} isn't set up on this server (its operator hasn't added its app keys). Try {offered}."
    return f"I don't know a platform called “{wanted.strip()[:40]}”. Try {offered}."


async def command(deps: CoreDeps, body: dict[str, Any], client: AsyncWebClient, verb: str, arg: str) -> None:
    """`/recast connect [platform]`, `/recast connections`, `/recast disconnect <account>`, `/recast calendar`."""
    if verb == "connect":
        await connect_command(deps, body, client, arg)
    elif verb == "disconnect":
        await disconnect_command(deps, body, client, arg)
    elif verb == "calendar":
        await calendar_command(deps, body, client)
    else:
        await connections_command(deps, body, client)


def _matches(connection: PlatformConnection, wanted: str) -> bool:
    """`linkedin`, `x`, an account name (`@crumb.bakes`, `Crumb Bakery`) or `linkedin Crumb Bakery`."""
    words = wanted.strip().lower()
    platform = {"twitter": "x"}.get(words.split(maxsplit=1)[0], words.split(maxsplit=1)[0]) if words else ""
    name = str(connection.platform_username or connection.platform_user_id).lower()
    if platform == connection.platform:
        rest = words.split(maxsplit=1)[1] if len(words.split(maxsplit=1)) == 2 else ""
        return not rest or rest.lstrip("@") == name.lstrip("@")
    return words.lstrip("@") == name.lstrip("@")


async def disconnect_command(deps: CoreDeps, body: dict[str, Any], client: AsyncWebClient, arg: str) -> None:
    """`/recast disconnect <platform or account>`: revoke where the platform allows, delete the tokens,
    cancel the posts scheduled on it; said in the channel, so the team knows."""
    reply = {"channel": body["channel_id"], "user": body["user_id"]}
    async with session_scope(deps.sessionmaker) as session:
        found = await _channel_client(session, client, body)
        if isinstance(found, str):
            await client.chat_postEphemeral(**reply, text=found)
            return
        mine = [c for c in await connections.connections_of(session, found.owner) if _matches(c, arg)] if arg else []
        if len(mine) != 1:
            listed = await connections.connections_of(session, found.owner)
            names = ", ".join(f"`{c.platform} {c.platform_username or c.platform_user_id}`" for c in listed)
            if not listed:
                text = f"*{found.client.name}* has no connected accounts to disconnect."
            elif not mine:
                text = f"Which account? `/recast disconnect <platform> [account]`, one of: {names}."
            else:
                text = f"More than one account matches “{arg[:40]}”: name one of {names}."
            await client.chat_postEphemeral(**reply, text=text)
            return
        connection = mine[0]
        result = await service.disconnect(session, deps.settings, found.owner, connection.id)
    text = f"<@{body['user_id']}> disconnected {agency.account_name(connection)} for *{found.client.name}*. "
    text += service.disconnect_summary(result, whose="the account's")
    await client.chat_postMessage(channel=body["channel_id"], text=text)


async def calendar_command(deps: CoreDeps, body: dict[str, Any], client: AsyncWebClient) -> None:
    """`/recast calendar`: what goes out on the channel's client account's accounts in the coming week, in
    the client's timezone."""
    reply = {"channel": body["channel_id"], "user": body["user_id"]}
    async with session_scope(deps.sessionmaker) as session:
        found = await _channel_client(session, client, body)
        if isinstance(found, str):
            await client.chat_postEphemeral(**reply, text=found)
            return
        tz = await agency.client_timezone(session, found.client.id)
        horizon = utcnow() + timedelta(days=7)
        rows = [p for p in await service.upcoming(session, found.owner, limit=100) if p.scheduled_for <= horizon]
    if not rows:
        text = (
            f"Nothing is scheduled for *{found.client.name}* in the coming week. Approve a draft here and "
            "tap *Schedule* to add one."
        )
    else:
        lines = [
            f"• {local_time(p.scheduled_for, tz)} — {label(p.platform)}: {caption_preview(p.post_caption)}"
            + (" (on hold: the account needs connecting again)" if p.status == PostStatus.HELD else "")
            for p in rows
        ]
        text = f"Coming up for *{found.client.name}* (times in {tz}):\n" + "\n".join(lines)
    await client.chat_postEphemeral(**reply, text=text)


async def connect_command(deps: CoreDeps, body: dict[str, Any], client: AsyncWebClient, arg: str) -> None:
    """`/recast connect [platform]`: sign-in buttons for the channel's client account (ephemeral)."""
    async with session_scope(deps.sessionmaker) as session:
        found = await _channel_client(session, client, body)
    reply = {"channel": body["channel_id"], "user": body["user_id"]}
    if isinstance(found, str):
        await client.chat_postEphemeral(**reply, text=found)
        return
    available = connect.connectable(deps.settings)
    platforms = _pick(available, arg) if available else NOT_SET_UP
    if isinstance(platforms, str):
        await client.chat_postEphemeral(**reply, text=platforms)
        return
    chat = slack_links.slack_chat(body["team_id"], body["channel_id"])
    links = [(p, await connect.sign_in_link(deps.redis, deps.settings, p, found.owner, chat)) for p in platforms]
    text = (
        f"Connect an account *{found.client.name}* publishes to. The button opens the platform's sign-in page "
        "and works once, for 10 minutes; this channel hears when it's connected."
    )
    await client.chat_postEphemeral(**reply, text=text, blocks=connect_blocks(text, links))


def _state_line(connection: PlatformConnection) -> str:
    if connection.status == ConnectionStatus.ACTIVE:
        return f"• {agency.account_name(connection)}: connected"
    why = connection.status_reason or connection.status
    return (
        f"• {agency.account_name(connection)}: needs connecting again ({why}): `/recast connect {connection.platform}`"
    )


async def connections_command(deps: CoreDeps, body: dict[str, Any], client: AsyncWebClient) -> None:
    """`/recast connections`: the channel's client account's accounts, with their state."""
    async with session_scope(deps.sessionmaker) as session:
        found = await _channel_client(session, client, body)
        mine = await connections.connections_of(session, found.owner) if not isinstance(found, str) else []
    if isinstance(found, str):
        text = found
    elif mine:
        text = f"Accounts *{found.client.name}* publishes to:\n" + "\n".join(_state_line(c) for c in mine)
    elif available := connect.connectable(deps.settings):
        text = f"No accounts connected for *{found.client.name}* yet. `/recast connect {available[0]}` adds one."
    else:
        text = NOT_SET_UP
    await client.chat_postEphemeral(channel=body["channel_id"], user=body["user_id"], text=text)


async def offer_publishing(deps: CoreDeps, client: AsyncWebClient, decision: approvals.Decision) -> bool:
    """After the last stage approved the draft: with auto-publish, whether to say it is queued (only when the
    client has an account that can carry it; else its publishing unit tells the thread how to connect one).
    Without it, offer Publish now · Schedule in the thread per account that can carry it, or how to connect
    one. Returns whether publishing was queued."""
    request = decision.request
    assert request.generated_content_id is not None
    async with session_scope(deps.sessionmaker) as session:
        found = await agency.client_draft(session, request.generated_content_id)
        targets = await agency.targets(session, found) if found else []
        fits = agency.platforms_for(deps.settings, found.draft) if found else []
        message = await slack_links.message_of(session=session, request_id=request.id)
    if decision.publish_unit is not None:  # stored with the approval; woken by the caller once it has said so
        return bool(targets)
    if message is None or found is None:
        return False
    api = await outbox.client_for_team(deps, message.team_id, client)
    if targets:
        blocks, text = offer_blocks(request.id, targets, found.timezone)
        await api.chat_postMessage(channel=message.channel_id, thread_ts=message.message_ts, blocks=blocks, text=text)
    elif fits:
        await api.chat_postMessage(
            channel=message.channel_id,
            thread_ts=message.message_ts,
            text=f"To publish it from here, connect {found.client.name}'s account: `/recast connect {fits[0]}`.",
        )
    return False


async def _say_in_thread(deps: CoreDeps, client: AsyncWebClient, request_id: uuid.UUID, text: str) -> None:
    async with deps.sessionmaker() as session:
        message = await slack_links.message_of(session=session, request_id=request_id)
    if message is None:
        return
    api = await outbox.client_for_team(deps, message.team_id, client)
    await api.chat_postMessage(channel=message.channel_id, thread_ts=message.message_ts, text=text)


async def _timezone(deps: CoreDeps, request_id: uuid.UUID) -> str:
    """The timezone a typed time is read in: the draft's client account's."""
    async with deps.sessionmaker() as session:
        request = await approvals.get_request(session=session, request_id=request_id)
        found = (
            await agency.client_draft(session, request.generated_content_id) if request.generated_content_id else None
        )
    return found.timezone if found else agency.DEFAULT_TIMEZONE


async def _schedule(
    deps: CoreDeps, client: AsyncWebClient, body: dict[str, Any], value: str, when: datetime | None
) -> tuple[ScheduledPost, uuid.UUID | None, str] | str:
    """Schedule (or publish now) and commit; (post, new unit, account name) or what went wrong, in words."""
    request_id, connection_id = parse_publish_value(value)
    try:
        async with session_scope(deps.sessionmaker) as session:
            user_id = await identify(session, client, body)
            if user_id is None:
                return NOT_LINKED
            request = await approvals.get_request(session=session, request_id=request_id)
            assert request.generated_content_id is not None
            post, unit = await agency.schedule_for_client(
                session,
                draft_id=request.generated_content_id,
                connection_id=connection_id,
                by_user_id=user_id,
                when=when,
                store=deps.store,
            )
            connection = await session.get_one(PlatformConnection, connection_id)
            where = agency.account_name(connection)
    except RecastError as exc:
        return exc.user_message
    return post, unit, where


async def _publish_now(deps: CoreDeps, body: dict[str, Any], client: AsyncWebClient) -> None:
    value = body["actions"][0]["value"]
    done = await _schedule(deps, client, body, value, None)
    if isinstance(done, str):
        await ephemeral(client, body, done)
        return
    post, unit, where = done
    if unit is None:
        when = local_time(post.scheduled_for, post.timezone)
        await ephemeral(
            client, body, f"It's already scheduled on {where} for {when} ({post.status}); nothing more to do."
        )
        return
    if moved := agency.moved_note(post):  # the platform's daily cap: not now, and not pushed early
        await _say_in_thread(deps, client, parse_publish_value(value)[0], f"🗓 {where}: {moved}")
        return
    try:  # said before the worker can post the link, so the thread reads in order
        await _say_in_thread(
            deps,
            client,
            parse_publish_value(value)[0],
            f"🚀 <@{body['user']['id']}> is publishing it on {where} now; the link will follow here.",
        )
    finally:
        await work.push(deps.work_queue, deps.sessionmaker, [unit])


async def _open_schedule(deps: CoreDeps, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
    await ack()
    value = body["actions"][0]["value"]
    request_id, connection_id = parse_publish_value(value)
    try:
        async with session_scope(deps.sessionmaker) as session:
            request = await approvals.get_request(session=session, request_id=request_id)
            assert request.generated_content_id is not None
            found = await agency.client_draft(session, request.generated_content_id)
            if found is None:
                raise agency.NotAClientDraft()
            connection = await connections.connection_of(session, found.owner(), connection_id)
            suggested = await slots.suggest(
                session,
                deps.redis,
                user_id=found.draft.user_id or found.client.id,
                platform=Platform(connection.platform),
                timezone=found.timezone,
            )
            where = agency.account_name(connection)
    except RecastError as exc:
        await ephemeral(client, body, exc.user_message)
        return
    view = schedule_modal(value, where, suggested, found.timezone)
    await client.views_open(trigger_id=body["trigger_id"], view=view)


async def _submit_schedule(deps: CoreDeps, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
    value = body["view"]["private_metadata"]
    values = body["view"]["state"]["values"]
    typed = str(((values.get("when") or {}).get("value") or {}).get("value") or "").strip()
    picked = (((values.get("slot") or {}).get("value") or {}).get("selected_option") or {}).get("value")
    if not typed and not picked:
        await ack(response_action="errors", errors={"when": "Pick a suggested time or type one."})
        return
    try:
        when = (
            slots.parse_when(typed, await _timezone(deps, parse_publish_value(value)[0]))
            if typed
            else datetime.fromisoformat(str(picked))
        )
    except RecastError as exc:
        await ack(response_action="errors", errors={"when": exc.user_message})
        return
    done = await _schedule(deps, client, body, value, when)
    if isinstance(done, str):
        await ack(response_action="errors", errors={"when": done[:150]})
        return
    await ack()
    post, unit, where = done
    at = local_time(post.scheduled_for, post.timezone)
    if unit is None:
        text = f"It's already scheduled on {where} for {at}."
    elif moved := agency.moved_note(post):
        text = f"🗓 <@{body['user']['id']}> scheduled it on {where}. {moved}"
    else:
        text = f"🗓 <@{body['user']['id']}> scheduled it on {where} for {at}; the link will follow here."
    await _say_in_thread(deps, client, parse_publish_value(value)[0], text)


async def _ack(ack: AsyncAck) -> None:
    await ack()


def register(app: AsyncApp, deps: CoreDeps) -> None:
    async def publish_now(body: dict[str, Any], client: AsyncWebClient) -> None:
        await _publish_now(deps, body, client)

    async def open_schedule(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await _open_schedule(deps, ack, body, client)

    async def submit_schedule(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await _submit_schedule(deps, ack, body, client)

    app.action(re.compile(f"^{CONNECT_LINK}"))(_ack)  # a URL button's click: the browser does the rest
    app.action(PUBLISH_NOW)(ack=_ack, lazy=[publish_now])
    app.action(SCHEDULE)(open_schedule)
    app.view(SCHEDULE_MODAL)(submit_schedule)
