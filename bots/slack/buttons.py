"""A click whose button value is not one Recast put on the button, or a form submitted without the inputs
Recast's modal has, is acknowledged and dropped before any listener. Slack sends back the values and inputs
we set, so only a signed request Slack never made carries others; the listeners read them blindly
(`parse_action_value`, `uuid.UUID`, `values["feedback"]["text"]`), and such a request failed in an
ack-phase listener as a 500."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.response import BoltResponse

from bots.slack.blocks import (
    APPROVE,
    CHANGES,
    CHANGES_MODAL,
    QA_FAIL,
    QA_FAIL_MODAL,
    QA_PASS,
    QA_SEND,
    REJECT,
    REJECT_MODAL,
    WHY,
    parse_action_value,
)
from bots.slack.publish_blocks import PUBLISH_NOW, SCHEDULE, parse_publish_value
from bots.slack.setup_blocks import SETUP_CHANNEL_MODAL

log = logging.getLogger(__name__)

PARSERS: dict[str, Callable[[str], object]] = {
    APPROVE: parse_action_value,
    CHANGES: parse_action_value,
    REJECT: parse_action_value,
    QA_SEND: parse_action_value,
    WHY: parse_action_value,
    QA_PASS: uuid.UUID,
    QA_FAIL: uuid.UUID,
    PUBLISH_NOW: parse_publish_value,
    SCHEDULE: parse_publish_value,
}

# The input (block id, action id) each form's ack-phase listener reads.
FORM_INPUTS: dict[str, tuple[str, str]] = {
    QA_FAIL_MODAL: ("feedback", "text"),
    CHANGES_MODAL: ("feedback", "text"),
    REJECT_MODAL: ("feedback", "text"),
    SETUP_CHANNEL_MODAL: ("client", "value"),
}


def unreadable_form(body: dict[str, Any]) -> str | None:
    """The callback id of one of our forms submitted without the input its listener reads, else None."""
    view = body.get("view")
    if body.get("type") != "view_submission" or not isinstance(view, dict):
        return None
    callback_id = str(view.get("callback_id"))
    if (path := FORM_INPUTS.get(callback_id)) is None:
        return None
    values = (view.get("state") or {}).get("values") if isinstance(view.get("state"), dict) else None
    block = values.get(path[0]) if isinstance(values, dict) else None
    element = block.get(path[1]) if isinstance(block, dict) else None
    return None if isinstance(element, dict) else callback_id


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
    if (callback_id := unreadable_form(body)) is not None:
        log.info("slack form %s dropped: submitted without the input its modal has", callback_id)
        return BoltResponse(status=200, body="")
    return await next()
