"""Flood control for Slack: per-user, per-channel and per-user upload limits (`core.limits`) before any
listener, session or task.

A refused request is still answered 200 (Slack retries an event that gets anything else, which would
make the flood bigger), with no listener run: nothing is queued, nothing charged. The first refusal of
a window gets one "slow down" answer: in the command's response for a slash command, else as an
ephemeral message in the channel; the rest are dropped silently. A file counts once however many events
carry it (`file_shared` and the `message` with the file), and an event retried by Slack counts once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncBoltContext
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from core.config import Settings
from core.limits.chat import ChatRules
from core.limits.window import RateLimiter, Rule, slow_down

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Sender:
    team: str
    user: str
    channel: str | None
    once: str | None  # an id that makes a redelivery count once (an event id)
    files: tuple[str, ...]
    command: bool


def sender_of(body: dict[str, Any]) -> Sender | None:
    """Who sent this request and what it carries, or None for requests no person sent (bot messages,
    App Home opening, URL verification)."""
    if body.get("command"):
        return Sender(
            str(body.get("team_id")), str(body.get("user_id")), body.get("channel_id"), None, (), command=True
        )
    kind = body.get("type")
    if kind in ("block_actions", "view_submission", "shortcut", "message_action"):
        user = body.get("user") or {}
        team = (body.get("team") or {}).get("id") or user.get("team_id")
        channel = (body.get("channel") or {}).get("id")
        return Sender(str(team), str(user.get("id")), channel, None, (), command=False) if user.get("id") else None
    if kind != "event_callback":
        return None
    event = body.get("event") or {}
    team, once = str(body.get("team_id")), body.get("event_id")
    if event.get("type") == "file_shared" and event.get("user_id"):
        files: tuple[str, ...] = (str(event.get("file_id")),)
        return Sender(team, str(event["user_id"]), event.get("channel_id"), files[0], files, command=False)
    person = event.get("user") and not event.get("bot_id") and event.get("subtype") in (None, "file_share")
    if event.get("type") == "message" and person:
        files = tuple(str(f.get("id")) for f in event.get("files") or [] if f.get("id"))
        # One upload is two events (`file_shared`, `message`): both count as the one message of its first file.
        once = files[0] if files else once
        return Sender(team, str(event["user"]), event.get("channel"), once, files, command=False)
    return None


def flood_middleware(limiter: RateLimiter, settings: Settings) -> Callable[..., Awaitable[Any]]:
    rules = ChatRules.from_settings(settings)

    async def refusal(sender: Sender) -> tuple[Rule, int, bool] | None:
        user = f"slack-user-{sender.team}.{sender.user}"
        checks: list[tuple[str, Rule, str | None]] = [(user, rules.user_messages, sender.once)]
        if sender.channel and not sender.channel.startswith("D"):  # D…: a direct message, no channel budget
            checks.append((f"slack-chan-{sender.team}.{sender.channel}", rules.chat_messages, sender.once))
        checks += [(user, rules.user_uploads, file_id) for file_id in sender.files]
        for subject, rule, item in checks:
            verdict = await limiter.hit(subject, rule, item=item)
            if not verdict.allowed:
                log.info("slack flood: %s over %s (%d/%ds)", subject, rule.endpoint, rule.limit, rule.window_s)
                return rule, verdict.retry_after_s, verdict.first_refusal
        return None

    async def middleware(
        body: dict[str, Any],
        context: AsyncBoltContext,
        next: Callable[[], Awaitable[Any]],  # noqa: A002
    ) -> Any:
        sender = sender_of(body)
        if sender is None:
            return await next()
        refused = await refusal(sender)
        if refused is None:
            return await next()
        rule, retry_after, first = refused
        context["flood_limited"] = True
        if not first:
            return BoltResponse(status=200, body="")
        text = slow_down(retry_after, what="files" if rule is rules.user_uploads else "messages")
        if sender.command:
            return BoltResponse(status=200, body={"response_type": "ephemeral", "text": text})
        client: AsyncWebClient | None = context.client
        if client is not None and sender.channel:
            try:
                await client.chat_postEphemeral(channel=sender.channel, user=sender.user, text=text)
            except Exception as exc:  # Slack refusing our one answer must not turn the drop into an error
                log.warning("could not send the slow-down answer: %s", exc)
        return BoltResponse(status=200, body="")

    return middleware
