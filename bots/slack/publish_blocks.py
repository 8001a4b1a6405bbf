"""Block Kit for publishing from Slack: the sign-in buttons of `/recast connect`, the Publish now · Schedule
offer in an approved draft's thread, and the Schedule modal (suggested slots or a typed time)."""

from __future__ import annotations

import uuid
from typing import Any

from core.distribution.agency import account_name
from core.distribution.models import PlatformConnection
from core.distribution.notices import local_time
from core.distribution.platforms.names import Platform, label
from core.distribution.slots import Slot

CONNECT_LINK = "recast_connect_link"  # a URL button: Slack still posts the click, which is acknowledged
PUBLISH_NOW, SCHEDULE, SCHEDULE_MODAL = "recast_publish_now", "recast_schedule", "recast_schedule_modal"

Block = dict[str, Any]


def publish_value(request_id: uuid.UUID, connection_id: uuid.UUID) -> str:
    return f"{request_id}|{connection_id}"


def parse_publish_value(value: str) -> tuple[uuid.UUID, uuid.UUID]:
    request_id, connection_id = value.split("|")
    return uuid.UUID(request_id), uuid.UUID(connection_id)


def connect_blocks(text: str, links: list[tuple[Platform, str]]) -> list[Block]:
    buttons = [
        {
            "type": "button",
            "action_id": f"{CONNECT_LINK}_{platform}",
            "text": {"type": "plain_text", "text": f"Connect {label(platform)}"},
            "url": url,
        }
        for platform, url in links
    ]
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}, {"type": "actions", "elements": buttons}]


def offer_blocks(request_id: uuid.UUID, targets: list[PlatformConnection], timezone: str) -> tuple[list[Block], str]:
    """Publish now · Schedule for each account of the client that can carry the draft."""
    text = f"Publish it now or schedule it (times in {timezone}):"
    blocks: list[Block] = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    for connection in targets[:20]:
        value = publish_value(request_id, connection.id)
        blocks.append(
            {
                "type": "actions",
                "block_id": f"recast_publish_{connection.id.hex[:12]}",
                "elements": [
                    {
                        "type": "button",
                        "action_id": PUBLISH_NOW,
                        "style": "primary",
                        "text": {"type": "plain_text", "text": f"🚀 Publish now · {account_name(connection)}"[:75]},
                        "value": value,
                    },
                    {
                        "type": "button",
                        "action_id": SCHEDULE,
                        "text": {"type": "plain_text", "text": "🗓 Schedule"},
                        "value": value,
                    },
                ],
            }
        )
    return blocks, text


def schedule_modal(value: str, where: str, suggested: list[Slot], timezone: str) -> dict[str, Any]:
    """A suggested slot, or a typed time (read in `timezone`); one of the two."""
    blocks: list[Block] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"When should it go out on *{where}*? ({timezone})"}}
    ]
    if suggested:
        source = suggested[0].source
        blocks.append(
            {
                "type": "input",
                "block_id": "slot",
                "optional": True,
                "label": {"type": "plain_text", "text": f"Suggested ({source})"[:2000]},
                "element": {
                    "type": "static_select",
                    "action_id": "value",
                    "options": [
                        {
                            "text": {"type": "plain_text", "text": local_time(s.at, timezone)[:75]},
                            "value": s.at.isoformat(),
                        }
                        for s in suggested
                    ],
                },
            }
        )
    blocks.append(
        {
            "type": "input",
            "block_id": "when",
            "optional": bool(suggested),
            "label": {"type": "plain_text", "text": "Or type a time" if suggested else "Time"},
            "hint": {
                "type": "plain_text",
                "text": "e.g. “tomorrow 9:30”, “fri 18:00”, “2026-12-05 18:00” or “in 2 hours”",
            },
            "element": {"type": "plain_text_input", "action_id": "value"},
        }
    )
    return {
        "type": "modal",
        "callback_id": SCHEDULE_MODAL,
        "private_metadata": value,
        "title": {"type": "plain_text", "text": "Schedule the post"},
        "submit": {"type": "plain_text", "text": "Schedule"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }
