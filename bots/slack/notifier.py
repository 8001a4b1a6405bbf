"""The notifier port on Slack: outbox messages addressed to a Slack channel or thread (`slack_links.slack_chat`),
e.g. "LinkedIn is connected for Acme" after a `/recast connect`, or a published post's link in its approval
thread. Buttons are not sent: a Slack button needs a listener for its action, and the only action an outbox
message carries here (reconnect) is a command in Slack, so it is said as one. A message with a photo or a
document (the weekly digest's chart) is one file upload (`files_upload_v2`) with the text as its comment, so
a retried send never leaves the text posted without its file."""

from __future__ import annotations

from typing import TYPE_CHECKING

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError

from bots.slack import outbox
from core.integrations.slack_links import parse_slack_chat
from core.notify.ports import ChatRef, ConnectAction, OutgoingMessage, SendFailed
from core.notify.progress import Progress

if TYPE_CHECKING:
    from core.deps import CoreDeps

# Slack's answers worth sending again later: throttling and its own trouble.
RETRYABLE = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})


def slack_text(message: OutgoingMessage) -> str:
    """The message's text, with what its buttons would have offered said as the command that does it."""
    text = message.text
    for row in message.buttons:
        for button in row:
            if isinstance(button.action, ConnectAction):
                text += f"\nTo reconnect, run `/recast connect {button.action.platform}` in the client's channel."
    return text


def failure(exc: BaseException) -> SendFailed:
    if isinstance(exc, SlackApiError):
        error = str(exc.response.get("error") or "")
        retry_after = exc.response.headers.get("Retry-After") if exc.response.headers else None
        retry = error in RETRYABLE or exc.response.status_code >= 500
        return SendFailed(
            f"Slack: {error or exc.response.status_code}",
            retry=retry,
            retry_after=float(retry_after) if retry_after else None,
        )
    return SendFailed(f"Slack: {type(exc).__name__}: {exc}", retry=True)


class SlackNotifier:
    def __init__(self, deps: CoreDeps) -> None:
        self.deps = deps

    async def send(self, chat: ChatRef, message: OutgoingMessage) -> str:
        team_id, channel_id, thread_ts = parse_slack_chat(chat)
        try:
            api = await outbox.client_for_team(self.deps, team_id, outbox.base_client(self.deps))
            attached = message.photo or message.document
            if attached is not None:
                uploaded = await api.files_upload_v2(
                    channel=channel_id,
                    thread_ts=thread_ts,
                    file=str(attached),
                    filename=message.filename or attached.name,
                    title=message.filename or attached.name,
                    initial_comment=slack_text(message),
                )
                return str(uploaded["file"]["id"])
            sent = await api.chat_postMessage(
                channel=channel_id, thread_ts=thread_ts, text=slack_text(message), unfurl_links=False
            )
        except FileNotFoundError as exc:  # the file is gone from this server: sending again won't bring it back
            raise SendFailed(f"Slack: cannot read the attached file: {exc}", retry=False) from exc
        except (SlackApiError, SlackRequestError, aiohttp.ClientError, TimeoutError) as exc:
            raise failure(exc) from exc
        return str(sent["ts"])

    async def edit_text(self, chat: ChatRef, message_id: str, text: str) -> None:
        team_id, channel_id, _ = parse_slack_chat(chat)
        try:
            api = await outbox.client_for_team(self.deps, team_id, outbox.base_client(self.deps))
            await api.chat_update(channel=channel_id, ts=message_id, text=text)
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            raise failure(exc) from exc

    async def show_progress(self, chat: ChatRef, message_id: str, progress: Progress) -> None:
        detail = f" — {progress.detail}" if progress.detail else ""
        await self.edit_text(chat, message_id, f"{progress.title}: {progress.state} ({progress.percent}%){detail}")
