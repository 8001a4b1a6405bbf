"""Thin bolt listeners split by kind; each module has `register(app, deps)`."""

from __future__ import annotations

import uuid
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from core.workflow import slack_links

NOT_LINKED = "I don't know your Slack account yet. Ask your Recast admin to link it to your team profile."


def slack_ids(body: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """(slack user id, team id, channel id) from any payload kind."""
    user = body.get("user") or {}
    user_id = user.get("id") if isinstance(user, dict) else user
    user_id = user_id or body.get("user_id") or (body.get("event") or {}).get("user")
    team = body.get("team") or {}
    team_id = (team.get("id") if isinstance(team, dict) else team) or body.get("team_id") or user.get("team_id")
    channel = body.get("channel") or {}
    channel_id = (channel.get("id") if isinstance(channel, dict) else channel) or body.get("channel_id")
    if channel_id is None and body.get("container"):
        channel_id = body["container"].get("channel_id")
    return str(user_id), team_id, channel_id


async def recast_user(session: AsyncSession, body: dict[str, Any]) -> uuid.UUID | None:
    return await slack_links.recast_user(session=session, slack_user_id=slack_ids(body)[0])


async def ephemeral(client: AsyncWebClient, body: dict[str, Any], text: str) -> None:
    user_id, _, channel_id = slack_ids(body)
    if channel_id:
        await client.chat_postEphemeral(channel=channel_id, user=user_id, text=text)
    else:  # App Home or a modal: a DM is the only place left to explain
        await client.chat_postMessage(channel=user_id, text=text)
