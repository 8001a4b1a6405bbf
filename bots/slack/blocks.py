"""Block Kit builders. Slack limits: section text ≤ 3000 chars, ≤ 50 blocks per message/view, button
values ≤ 2000 chars; a long draft is cut at a paragraph with a pointer to the full text in the thread."""

from __future__ import annotations

import uuid
from typing import Any

from core.content.models import ContentAsset
from core.pipeline.render import why_label
from core.repurposing.formats import FORMATS
from core.repurposing.models import GeneratedContent
from core.repurposing.why import explained_score
from core.workflow.approvals import PendingApproval
from core.workflow.models import ApprovalRequest
from core.workflow.workflows import Stage

SECTION_MAX = 3000
MAX_BLOCKS = 50
DRAFT_PREVIEW = 2800  # leaves room for the "continued" note inside one section

APPROVE, CHANGES, REJECT = "recast_approve", "recast_request_changes", "recast_reject"
WHY = "recast_why"  # "❓ Why N?": the reasons behind the draft's quality score, answered ephemerally
CHANGES_MODAL, REJECT_MODAL, WORKFLOW_MODAL = "recast_changes_modal", "recast_reject_modal", "recast_workflow_modal"
QA_SEND, QA_MODAL, QA_PASS, QA_FAIL, QA_FAIL_MODAL = (
    "recast_send_to_qa",
    "recast_qa_modal",
    "recast_qa_pass",
    "recast_qa_fail",
    "recast_qa_fail_modal",
)
QA_HOME_ITEMS = 8  # of the 50 blocks a Home tab may have: 2 per QA item, 2 per approval

Block = dict[str, Any]


def action_value(request: ApprovalRequest) -> str:
    """What a button carries: the request and the stage and revision the approver is looking at."""
    return f"{request.id}:{request.current_stage or 1}:{request.revision_count or 0}"


def parse_action_value(value: str) -> tuple[uuid.UUID, int, int]:
    request_id, stage, revision = value.split(":")
    return uuid.UUID(request_id), int(stage), int(revision)


def fit_text(text: str, limit: int = SECTION_MAX) -> str:
    """Text cut to fit a Block Kit field (a section's 3000 characters by default)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def truncate_draft(text: str, limit: int = DRAFT_PREVIEW) -> tuple[str, bool]:
    """Cut at the last paragraph or sentence break before `limit`; True when something was cut."""
    if len(text) <= limit:
        return text, False
    head = text[:limit]
    cut = max(head.rfind("\n\n"), head.rfind(". ") + 1)
    return (head[:cut] if cut > limit // 2 else head).rstrip(), True


def format_label(draft: GeneratedContent) -> str:
    """The platform and format a draft is written for, e.g. "LinkedIn post"."""
    key = str((draft.metadata_ or {}).get("output_format") or "")
    if key in FORMATS:
        return FORMATS[key].label
    return (draft.target_platform or draft.content_type or "draft").replace("_", " ").capitalize()


def draft_label(draft: GeneratedContent) -> str:
    """How a draft is named in messages: its title and its format."""
    return f"“{draft.title or 'Untitled draft'}” ({format_label(draft)})"


def draft_blocks(draft: GeneratedContent, *, full_text_url: str | None = None) -> tuple[list[Block], bool]:
    """The draft itself: title, text (maybe truncated), hashtags, CTA and for videos a thumbnail + link."""
    blocks: list[Block] = []
    if draft.title:
        blocks.append({"type": "header", "text": {"type": "plain_text", "text": fit_text(draft.title, 150)}})
    body, cut = truncate_draft(draft.content_text or draft.caption or "(empty draft)")
    if cut:
        more = f"<{full_text_url}|full text>" if full_text_url else "full text in the thread"
        body += f"\n\n_…continued: {more}_"
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": fit_text(body)}})
    details = []
    if draft.hashtags:
        details.append("*Hashtags:* " + " ".join(f"#{t.lstrip('#')}" for t in draft.hashtags[:30]))
    if draft.cta:
        details.append(f"*CTA:* {draft.cta}")
    if details:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": fit_text("\n".join(details))}})
    if draft.content_type in ("video", "clip", "short") or draft.file_url:
        if draft.thumbnail_url:
            blocks.append({"type": "image", "image_url": draft.thumbnail_url, "alt_text": "clip thumbnail"})
        if draft.file_url:
            blocks.append(
                {
                    "type": "section",
                    "text": {"type": "mrkdwn", "text": fit_text(f"🎬 <{draft.file_url}|Watch the clip>")},
                }
            )
    return blocks, cut


def _stage_line(request: ApprovalRequest, stage: Stage | None, stage_count: int) -> str:
    status = request.status or "pending"
    at = f"stage {request.current_stage or 1}/{stage_count}"
    if status == "pending" and stage is not None:
        return f"*Stage {request.current_stage}/{stage_count}:* {stage.name} · awaiting approval"
    labels = {
        "approved": f"✅ Approved (all {stage_count} stage{'s' if stage_count != 1 else ''})",
        "rejected": f"❌ Rejected at {at}",
        "changes_requested": f"✏️ Changes requested at {at}",
    }
    line = labels.get(status, status)
    if request.feedback and status in ("rejected", "changes_requested"):
        line += f" — {request.feedback}"
    return fit_text(line)


def version_of(request: ApprovalRequest) -> int:
    return (request.revision_count or 0) + 1


def source_label(asset: ContentAsset | None) -> str | None:
    """Where a draft came from: the submitted content's title, and how (a link when there is one)."""
    if asset is None:
        return None
    kind = {"document": "text"}.get(asset.content_type or "", asset.content_type or "content")
    via = {"slack": "from Slack", "telegram": "from Telegram"}.get(
        asset.source_platform or "", f"by {asset.source_platform or 'upload'}"
    )
    title = f"“{fit_text(asset.title, 120)}”" if asset.title else "an untitled submission"
    what = f"<{asset.source_url}|{kind}>" if asset.source_url else kind
    return f"{title} ({what} {via})"


def review_buttons(value: str, *, send_to_qa: bool, why_score: int | None = None) -> list[Block]:
    """Approve / Request changes / Reject (and Send to QA for whoever may, and "❓ Why N?" when the draft's
    score has checks to explain it), one request's value on each."""

    def button(action_id: str, label: str, style: str | None = None) -> Block:
        block: Block = {"type": "button", "action_id": action_id, "value": value}
        if style:
            block["style"] = style
        block["text"] = {"type": "plain_text", "text": label}
        return block

    buttons = [
        button(APPROVE, "Approve", "primary"),
        button(CHANGES, "Request changes"),
        button(REJECT, "Reject", "danger"),
    ]
    if send_to_qa:
        buttons.append(button(QA_SEND, "Send to QA"))
    if why_score is not None:
        buttons.append(button(WHY, why_label(why_score)))
    return buttons


def approval_message(
    *,
    draft: GeneratedContent,
    request: ApprovalRequest,
    stage: Stage | None,
    stage_count: int,
    note: str | None = None,
    full_text_url: str | None = None,
    source: str | None = None,
    buttons: bool = True,
) -> tuple[list[Block], str]:
    """The review message: what it is (format, source, version), the draft, its stage and (while pending)
    Approve · Request changes · Reject."""
    what = [f"*{format_label(draft)}*", f"Version {version_of(request)}"]
    score = explained_score(draft)  # a score is shown only with the checks that explain it
    if score is not None:
        what.append(f"Quality {score}/100")
    if source:
        what.insert(1, f"Source: {source}")
    body, _ = draft_blocks(draft, full_text_url=full_text_url)
    blocks: list[Block] = [
        {"type": "context", "elements": [{"type": "mrkdwn", "text": fit_text(" · ".join(what), 2000)}]},
        *body,
    ]
    context = [{"type": "mrkdwn", "text": _stage_line(request, stage, stage_count)}]
    if note:
        context.append({"type": "mrkdwn", "text": fit_text(note, 2000)})
    blocks.append({"type": "context", "elements": context})
    if request.status == "pending" and buttons:
        value = action_value(request)
        blocks.append(
            {
                "type": "actions",
                "block_id": "recast_review",
                "elements": review_buttons(value, send_to_qa=True, why_score=score),
            }
        )
    fallback = (
        f"Draft for review: {format_label(draft)} “{draft.title or 'untitled'}”, version "
        f"{version_of(request)} ({_stage_line(request, stage, stage_count)})"
    )
    return blocks[:MAX_BLOCKS], fit_text(fallback, 300)


def feedback_modal(kind: str, value: str, title: str) -> dict[str, Any]:
    """The modal asking for feedback (request changes) or a reason (reject)."""
    label = "What should change?" if kind == CHANGES_MODAL else "Why is it rejected?"
    return {
        "type": "modal",
        "callback_id": kind,
        "private_metadata": value,
        "title": {"type": "plain_text", "text": title[:24]},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "feedback",
                "label": {"type": "plain_text", "text": label},
                "element": {"type": "plain_text_input", "action_id": "text", "multiline": True, "max_length": 2000},
            }
        ],
    }


def workflow_modal(private_metadata: str) -> dict[str, Any]:
    """Define up to three stages: a name, and approvers (users) or a role each."""
    roles = [
        {"text": {"type": "plain_text", "text": r}, "value": r}
        for r in ("owner", "admin", "manager", "creator", "client")
    ]
    blocks: list[Block] = [
        {
            "type": "input",
            "block_id": "name",
            "label": {"type": "plain_text", "text": "Workflow name"},
            "element": {"type": "plain_text_input", "action_id": "value", "initial_value": "Approvals"},
        },
    ]
    for n in (1, 2, 3):
        optional = n > 1
        blocks += [
            {
                "type": "input",
                "block_id": f"stage{n}_name",
                "optional": optional,
                "label": {"type": "plain_text", "text": f"Stage {n} name"},
                "element": {"type": "plain_text_input", "action_id": "value"},
            },
            {
                "type": "input",
                "block_id": f"stage{n}_users",
                "optional": True,
                "label": {"type": "plain_text", "text": f"Stage {n} approvers"},
                "element": {"type": "multi_users_select", "action_id": "value"},
            },
            {
                "type": "input",
                "block_id": f"stage{n}_role",
                "optional": True,
                "label": {"type": "plain_text", "text": f"Stage {n} role (instead of people)"},
                "element": {"type": "static_select", "action_id": "value", "options": roles},
            },
        ]
    blocks.append(
        {
            "type": "input",
            "block_id": "auto_publish",
            "optional": True,
            "label": {"type": "plain_text", "text": "Publishing"},
            "element": {
                "type": "checkboxes",
                "action_id": "value",
                "options": [
                    {
                        "text": {"type": "plain_text", "text": "Publish automatically when the last stage approves"},
                        "description": {
                            "type": "plain_text",
                            "text": "At once, on the client's connected accounts (/recast connect)",
                        },
                        "value": "yes",
                    }
                ],
            },
        }
    )
    return {
        "type": "modal",
        "callback_id": WORKFLOW_MODAL,
        "private_metadata": private_metadata,
        "title": {"type": "plain_text", "text": "Approval workflow"},
        "submit": {"type": "plain_text", "text": "Save"},
        "blocks": blocks,
    }


def pending_blocks(
    items: list[PendingApproval],
    *,
    heading: str = "Pending approvals",
    qa_senders: frozenset[uuid.UUID] = frozenset(),
    limit: int = (MAX_BLOCKS - 2) // 2,
) -> list[Block]:
    """The approvals waiting for someone; "Send to QA" only on those whose request id is in `qa_senders`."""
    blocks: list[Block] = [{"type": "header", "text": {"type": "plain_text", "text": heading}}]
    if not items:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "Nothing is waiting for you. 🎉"}})
        return blocks
    for item in items[:limit]:
        preview, _ = truncate_draft(item.draft.content_text or "", 280)
        text = (
            f"*{item.draft.title or 'Untitled draft'}* · {format_label(item.draft)} · version "
            f"{version_of(item.request)}\n"
            f"Stage {item.request.current_stage}/{item.stage_count}: {item.stage.name}\n>{preview}"
        )
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": fit_text(text)}})
        value = action_value(item.request)
        elements = review_buttons(value, send_to_qa=item.request.id in qa_senders)
        blocks.append({"type": "actions", "elements": elements})
    if len(items) > limit:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"…and {len(items) - limit} more"}]})
    return blocks[:MAX_BLOCKS]
