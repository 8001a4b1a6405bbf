"""A click whose button value is not one Recast put on the button is acknowledged and dropped before any
listener. Slack sends back the value we set, so only a signed request Slack never made carries another; the
listeners parse values blindly (`parse_action_value`, `uuid.UUID`), and such a value failed in an
ack-phase listener as a 500."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.response import BoltResponse

from bots.slack.blocks import APPROVE, CHANGES, QA_FAIL, QA_PASS, QA_SEND, REJECT, parse_action_value
from bots.slack.publish_blocks import PUBLISH_NOW, SCHEDULE, parse_publish_value

log = logging.getLogger(__name__)

PARSERS: dict[str, Callable[[str], object]] = {
    APPROVE: parse_action_value,
    CHANGES: parse_action_value,
    REJECT: parse_action_value,
    QA_SEND: parse_action_value,
    QA_PASS: uuid.UUID,
    QA_FAIL: uuid.UUID,
    PUBLISH_NOW: parse_publish_value,
    SCHEDULE: parse_publish_value,
}


def unparsable_action(body: dict[str, Any]) -> str | None:
    """The action id of a click on one of our buttons whose value its listener cannot read, else None."""
    if body.get("type") != "block_actions":
        return None
    for action in body.get("actions") or []:
        parse = PARSERS.get(str(action.get("action_id")))
        if parse is None:
            continue
        value = action.get("value")
        try:
            if not isinstance(value, str):
                raise ValueError("no value")
            parse(value)
        except ValueError:
            return str(action.get("action_id"))
    return None


async def button_values_middleware(body: dict[str, Any], next: Callable[[], Awaitable[Any]]) -> Any:  # noqa: A002
    if (action_id := unparsable_action(body)) is not None:
        log.info("slack click on %s dropped: its value is not one of ours", action_id)
        return BoltResponse(status=200, body="")
    return await next()
