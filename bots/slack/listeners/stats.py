"""`/recast stats [client]`: a client account's week so far against the same days last week, and its chart.

In the client's own channel the answer is posted there for the channel (the weekly digest goes there too);
asked about a client from anywhere else, it goes to the asker's direct messages with Recast, so one client's
figures never land in another client's channel.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bots.slack.listeners import NOT_LINKED, identify
from bots.slack.stats_blocks import NO_CLIENT_CHANNEL, no_figures, stats_blocks
from core.accounts.models import ClientAccount
from core.analytics import charts, digest
from core.common.errors import RecastError
from core.db.session import session_scope
from core.deps import CoreDeps
from core.integrations import slack_links
from core.integrations.errors import WorkspaceNotLinked


async def client_asked(
    session: AsyncSession,
    client: AsyncWebClient,
    body: dict[str, Any],
    arg: str,
    *,
    no_channel: str = NO_CLIENT_CHANNEL,
) -> tuple[ClientAccount, bool] | str:
    """(the client account asked about, whether this is its channel), or what to say instead."""
    ws = await slack_links.workspace(session=session, team_id=body["team_id"])
    if ws is None:
        return WorkspaceNotLinked.user_message
    user_id = await identify(session, client, body)
    if user_id is None:
        return NOT_LINKED
    here = await slack_links.client_for_channel(session=session, team_id=body["team_id"], channel_id=body["channel_id"])
    try:
        if arg:
            account = await digest.find_client(session, ws.organization_id, arg)
        elif here is None:
            return no_channel
        else:
            account = await session.get_one(ClientAccount, here)
        await digest.require_viewer(session, account, user_id)
    except RecastError as exc:
        return exc.user_message
    return account, account.id == here


async def command(deps: CoreDeps, body: dict[str, Any], client: AsyncWebClient, arg: str) -> None:
    reply = {"channel": body["channel_id"], "user": body["user_id"]}
    async with session_scope(deps.sessionmaker) as session:
        found = await client_asked(session, client, body, arg)
        if isinstance(found, str):
            await client.chat_postEphemeral(**reply, text=found)
            return
        account, own_channel = found
        result = await digest.client_stats(session, account)
    if not result.stats.has_figures:
        await client.chat_postEphemeral(**reply, text=no_figures(account.name))
        return
    where = body["channel_id"]
    if not own_channel and not where.startswith("D"):
        opened = await client.conversations_open(users=body["user_id"])
        where = opened["channel"]["id"]
        await client.chat_postEphemeral(
            **reply, text=f"I've sent *{account.name}*'s figures to our direct messages, so they stay with you."
        )
    blocks, text = stats_blocks(result, asked_by=body["user_id"] if own_channel else None)
    await client.chat_postMessage(channel=where, blocks=blocks, text=text, unfurl_links=False)
    with tempfile.TemporaryDirectory() as tmp:
        chart = charts.week_chart(result.stats, Path(tmp) / "week.png")
        await client.files_upload_v2(
            channel=where,
            file=str(chart),
            filename=f"{account.slug}-this-week.png",
            title=f"{account.name}: this week so far vs the same days last week",
        )
