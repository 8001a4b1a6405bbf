"""Block Kit for App Home and QA: the approvals and QA reviews waiting for a person, and the QA modals."""

from __future__ import annotations

import uuid
from typing import Any

from bots.slack.blocks import (
    MAX_BLOCKS,
    QA_FAIL,
    QA_FAIL_MODAL,
    QA_HOME_ITEMS,
    QA_MODAL,
    QA_PASS,
    Block,
    draft_label,
    fit_text,
    format_label,
    pending_blocks,
    truncate_draft,
)
from core.repurposing.models import GeneratedContent
from core.workflow import qa as qa_service
from core.workflow.approvals import PendingApproval
from core.workflow.qa import QA_SLA_HOURS, QA_TYPES, QAItem


def home_view(
    items: list[PendingApproval],
    qa: list[QAItem] | None = None,
    *,
    qa_senders: frozenset[uuid.UUID] = frozenset(),
    figures: list[Block] | None = None,
) -> dict[str, Any]:
    """App Home: the latest figures of the clients this person can see (`stats_blocks.home_figures_blocks`),
    the approvals waiting for them and, for QA reviewers, the QA queue."""
    top = figures or []
    if qa is None:
        room = (MAX_BLOCKS - 2 - len(top)) // 2
        blocks = pending_blocks(items, heading="Waiting for your approval", qa_senders=qa_senders, limit=room)
        return {"type": "home", "blocks": (top + blocks)[:MAX_BLOCKS]}
    room = (
        MAX_BLOCKS - 3 - 2 * min(len(qa), QA_HOME_ITEMS) - (1 if len(qa) > QA_HOME_ITEMS else 0) - 1 - len(top)
    ) // 2
    blocks = pending_blocks(items, heading="Waiting for your approval", qa_senders=qa_senders, limit=room)
    return {"type": "home", "blocks": (top + blocks + qa_blocks(qa))[:MAX_BLOCKS]}


def qa_blocks(items: list[QAItem]) -> list[Block]:
    """The QA queue: each request's draft, type, priority, due time and note, with Pass · Fail with note."""
    blocks: list[Block] = [{"type": "header", "text": {"type": "plain_text", "text": "QA queue"}}]
    if not items:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "No QA reviews are waiting. 🎉"}})
        return blocks
    for item in items[:QA_HOME_ITEMS]:
        qa = item.qa
        lines = [
            f"*{item.draft.title or 'Untitled draft'}* · {format_label(item.draft)}",
            f"{qa_service.type_label(qa.qa_type)} · {qa.priority} priority · due {qa_service.due_text(qa.due_at)}"
            + (f" · asked by {item.requested_by}" if item.requested_by else ""),
        ]
        if item.note:
            lines.append(f"Note: {item.note}")
        preview, _ = truncate_draft(item.draft.content_text or "", 280)
        lines.append(f">{preview}")
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": fit_text("\n".join(lines))}})
        blocks.append(
            {
                "type": "actions",
                "block_id": f"qa_{qa.id}",
                "elements": [
                    {
                        "type": "button",
                        "action_id": QA_PASS,
                        "style": "primary",
                        "value": str(qa.id),
                        "text": {"type": "plain_text", "text": "Pass"},
                    },
                    {
                        "type": "button",
                        "action_id": QA_FAIL,
                        "style": "danger",
                        "value": str(qa.id),
                        "text": {"type": "plain_text", "text": "Fail with note"},
                    },
                ],
            }
        )
    if len(items) > QA_HOME_ITEMS:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"…and {len(items) - QA_HOME_ITEMS} more"}]}
        )
    return blocks


def qa_modal(value: str, draft: GeneratedContent) -> dict[str, Any]:
    """Send to QA: the kind of review, its priority (which sets when it is due) and a note for the reviewer."""
    types = [{"text": {"type": "plain_text", "text": label}, "value": key} for key, label in QA_TYPES.items()]
    priorities = [
        {"text": {"type": "plain_text", "text": f"{p.capitalize()}: due in {h} h"}, "value": p}
        for p, h in QA_SLA_HOURS.items()
    ]
    return {
        "type": "modal",
        "callback_id": QA_MODAL,
        "private_metadata": value,
        "title": {"type": "plain_text", "text": "Send to QA"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "context", "elements": [{"type": "mrkdwn", "text": fit_text(draft_label(draft), 2000)}]},
            {
                "type": "input",
                "block_id": "qa_type",
                "label": {"type": "plain_text", "text": "Review"},
                "element": {
                    "type": "static_select",
                    "action_id": "value",
                    "options": types,
                    "initial_option": types[0],
                },
            },
            {
                "type": "input",
                "block_id": "priority",
                "label": {"type": "plain_text", "text": "Priority"},
                "element": {
                    "type": "static_select",
                    "action_id": "value",
                    "options": priorities,
                    "initial_option": priorities[1],
                },
            },
            {
                "type": "input",
                "block_id": "note",
                "optional": True,
                "label": {"type": "plain_text", "text": "Note for the QA reviewer"},
                "element": {"type": "plain_text_input", "action_id": "value", "multiline": True, "max_length": 2000},
            },
        ],
    }


def qa_fail_modal(qa_id: uuid.UUID) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": QA_FAIL_MODAL,
        "private_metadata": str(qa_id),
        "title": {"type": "plain_text", "text": "Fail QA"},
        "submit": {"type": "plain_text", "text": "Fail and send back"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "feedback",
                "label": {"type": "plain_text", "text": "What failed? (the new version is written from this)"},
                "element": {"type": "plain_text_input", "action_id": "text", "multiline": True, "max_length": 2000},
            }
        ],
    }
