"""Events API: App Home (client figures, approvals, QA) and file shares (`file_shared`, and `message` events
carrying files). Retries of an event (`x-slack-retry-num`) are recognised by its event id and dropped before
any work."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.home_blocks import home_view
from bots.slack.stats_blocks import home_figures_blocks
from core.analytics import digest
from core.db.session import session_scope
from core.deps import CoreDeps
from core.integrations import slack_links
from core.workflow import qa


async def _first_delivery(deps: CoreDeps, body: dict[str, Any]) -> bool:
    event_id = body.get("event_id")
    if not event_id:
        return True
    async with session_scope(deps.sessionmaker) as session:
        return await slack_links.accept_event(
            session=session,
            event_id=event_id,
            team_id=body.get("team_id"),
            event_type=(body.get("event") or {}).get("type"),
        )


def register(app: AsyncApp, deps: CoreDeps) -> None:
    async def home(body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home" or not await _first_delivery(deps, body):
            return
        async with session_scope(deps.sessionmaker) as session:
            user_id = await slack_links.recast_user(session=session, slack_user_id=event["user"])
            home = await qa.home_for(session=session, user_id=user_id)
            figures = home_figures_blocks(await digest.home_figures(session, user_id))
        await client.views_publish(
            user_id=event["user"],
            view=home_view(home.pending, home.qa, qa_senders=home.qa_senders, figures=figures),
        )

    async def file_shared(body: dict[str, Any], event: dict[str, Any]) -> None:
        if not await _first_delivery(deps, body):
            return
        await deps.enqueue(
            "slack.submit_file",
            team_id=body.get("team_id"),
            channel_id=event.get("channel_id"),
            slack_user_id=event.get("user_id"),
            file_id=event.get("file_id"),
        )

    async def message(body: dict[str, Any], event: dict[str, Any]) -> None:
        # Only people's messages with files; the same file's `file_shared` event is deduplicated by the task.
        if not event.get("files") or event.get("bot_id") or not await _first_delivery(deps, body):
            return
        for file in event["files"][:10]:
            await deps.enqueue(
                "slack.submit_file",
                team_id=body.get("team_id"),
                channel_id=event.get("channel"),
                slack_user_id=event.get("user"),
                file_id=file.get("id"),
            )

    async def noop_ack() -> None:
        return None

    app.event("app_home_opened")(ack=noop_ack, lazy=[home])
    app.event("file_shared")(ack=noop_ack, lazy=[file_shared])
    app.event("message")(ack=noop_ack, lazy=[message])
