"""Block Kit for `/recast setup`: the onboarding checklist and the client channel modal."""

from __future__ import annotations

from typing import Any

from bots.slack.blocks import Block, fit_text
from core.integrations.slack_onboarding import SetupState

SETUP_START, SETUP_CHANNEL, SETUP_WORKFLOW, SETUP_TEST = (
    "recast_setup_start",
    "recast_setup_channel",
    "recast_setup_workflow",
    "recast_setup_test",
)
SETUP_CHANNEL_MODAL = "recast_setup_channel_modal"


def _step(done: bool, text: str, button: Block | None = None) -> Block:
    block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": fit_text(("✅ " if done else "◻️ ") + text)}}
    if button is not None and not done:
        block["accessory"] = button
    return block


def _button(action_id: str, label: str, value: str = "setup") -> Block:
    return {
        "type": "button",
        "action_id": action_id,
        "value": value,
        "style": "primary",
        "text": {"type": "plain_text", "text": label[:75]},
    }


def _link_step(state: SetupState, workspace_name: str, can_start: bool) -> Block:
    org, role = state.organization, state.role
    if org is not None:
        who = f" (you are its {role})" if role else " (you aren't a member yet: an owner or admin can add you)"
        return _step(True, f"*1. Linked* to the organization *{org.name}*{who}.")
    if can_start:
        return _step(
            False,
            f"*1. Start an agency* for *{workspace_name}*: you become its owner.",
            _button(SETUP_START, "Start the agency"),
        )
    return _step(
        False,
        "*1. Link this workspace.* A Slack workspace admin can start an agency for it "
        "with `/recast setup`, or an organization's owner can give you an invite "
        "for `/recast link <invite>`.",
    )


def _channel_step(state: SetupState) -> Block:
    org = state.organization
    if state.channel_client:
        return _step(True, f"*2. Client channel:* this channel reviews *{state.channel_client}*'s drafts.")
    if org is not None and state.role in ("owner", "admin"):
        extra = f" ({state.client_channels} linked elsewhere)" if state.client_channels else ""
        return _step(
            False,
            f"*2. Make this channel a client's review channel*{extra}.",
            _button(SETUP_CHANNEL, "Name the client"),
        )
    when = "" if org is not None else "once the workspace is linked, "
    return _step(
        False,
        f"*2. Client channel:* {when}an owner or admin names the client whose drafts "
        "this channel reviews (`/recast setup` here).",
    )


def _workflow_step(state: SetupState) -> Block:
    if state.has_workflow:
        return _step(True, "*3. Approval workflow* is set (`/recast workflow` changes it).")
    if state.organization is not None and state.role in ("owner", "admin", "manager"):
        return _step(
            False,
            "*3. Approval workflow:* start with one stage that you approve.",
            _button(SETUP_WORKFLOW, "Create the workflow"),
        )
    return _step(False, "*3. Approval workflow:* an owner, admin or manager creates it.")


def _test_step(state: SetupState) -> Block:
    if state.submissions:
        return _step(True, f"*4. Submissions:* {state.submissions} so far.")
    if state.channel_client and state.has_workflow and state.role:
        return _step(
            False,
            "*4. Send a test submission:* a sample talk becomes drafts in this channel.",
            _button(SETUP_TEST, "Send a test submission"),
        )
    return _step(
        False,
        "*4. Test submission:* available here once this channel is a client's channel and a workflow is set.",
    )


def setup_blocks(
    state: SetupState, *, workspace_name: str, can_start: bool, note: str | None = None
) -> tuple[list[Block], str]:
    """The set-up checklist: each step done, or what to do next with a button that does it (only for people
    allowed to do it; the others are told who can)."""
    blocks: list[Block] = [{"type": "header", "text": {"type": "plain_text", "text": "Recast set-up"}}]
    if note:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": fit_text(note)}})
    blocks += [
        _link_step(state, workspace_name, can_start),
        _channel_step(state),
        _workflow_step(state),
        _test_step(state),
    ]
    blocks.append(
        _step(
            bool(state.approvals),
            "*5. First approval:* "
            + (
                f"{state.approvals} draft(s) approved."
                if state.approvals
                else "approve a draft when it arrives in the channel, or from Recast's Home tab."
            ),
        )
    )
    done = sum(1 for b in blocks if b["type"] == "section" and b["text"]["text"].startswith("✅"))
    return blocks, f"Recast set-up: {done} of 5 steps done"


def setup_channel_modal(channel_id: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": SETUP_CHANNEL_MODAL,
        "private_metadata": channel_id,
        "title": {"type": "plain_text", "text": "Client channel"},
        "submit": {"type": "plain_text", "text": "Link channel"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "client",
                "label": {"type": "plain_text", "text": "Client name"},
                "element": {"type": "plain_text_input", "action_id": "value", "max_length": 200},
            }
        ],
    }
