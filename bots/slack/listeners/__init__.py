"""Thin bolt listeners split by kind; each module has `register(app, deps)`."""

from __future__ import annotations

import uuid
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from core.integrations import slack_links, slack_people
from core.integrations.errors import SlackUserNotLinked
from core.integrations.slack_onboarding import SlackPerson

NOT_LINKED = SlackUserNotLinked.user_message


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


async def slack_profile(client: AsyncWebClient, slack_user_id: str) -> tuple[str | None, str | None]:
    """(email, display name) from users.info; (None, None) when Slack won't tell."""
    try:
        info = await client.users_info(user=slack_user_id)
    except SlackApiError:
        return None, None
    user = info.get("user") or {}
    profile = user.get("profile") or {}
    return profile.get("email"), profile.get("real_name") or user.get("real_name") or user.get("name")


async def person_of(client: AsyncWebClient, slack_user_id: str, team_id: str) -> SlackPerson:
    email, name = await slack_profile(client, slack_user_id)
    return SlackPerson(slack_user_id, team_id, email, name)


async def is_workspace_admin(client: AsyncWebClient, slack_user_id: str) -> bool:
    """Whether Slack says this user administers the workspace (who may start an agency for it)."""
    try:
        info = await client.users_info(user=slack_user_id)
    except SlackApiError:
        return False
    user = info.get("user") or {}
    return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))


def email_lookup(client: AsyncWebClient, slack_user_id: str) -> slack_people.EmailLookup:
    """The Slack user's profile e-mail, asked of Slack when the core rules need it."""

    async def email() -> str | None:
        return (await slack_profile(client, slack_user_id))[0]

    return email


async def identify(
    session: AsyncSession, client: AsyncWebClient, body: dict[str, Any], *, organization_id: uuid.UUID | None = None
) -> uuid.UUID | None:
    """The Recast user behind a payload (`slack_people.identify`, with the Slack profile's e-mail)."""
    slack_user, team_id, _ = slack_ids(body)
    return await slack_people.identify(
        session=session,
        slack_user_id=slack_user,
        team_id=team_id,
        email=email_lookup(client, slack_user),
        organization_id=organization_id,
    )


async def ephemeral(client: AsyncWebClient, body: dict[str, Any], text: str) -> None:
    user_id, _, channel_id = slack_ids(body)
    if channel_id:
        await client.chat_postEphemeral(channel=channel_id, user=user_id, text=text)
    else:  # App Home or a modal: a DM is the only place left to explain
        await client.chat_postMessage(channel=user_id, text=text)
