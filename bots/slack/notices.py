"""How the people a decision concerns are told about it (in Slack DMs, and on Telegram through the notifier):
core says whom and what happened (`DecisionNotice`); the words are chosen here."""

from __future__ import annotations

from core.workflow.approvals import Decision
from core.workflow.recipients import DecisionNotice, Notice


def outcome_text(
    decision: Decision, reviewer: str | None, label: str, *, publishing_queued: bool = False
) -> str | None:
    """What the submitter is told after an applied decision (None for an intermediate stage). Publishing is
    mentioned only when this adapter queued it."""
    who = f" by {reviewer}" if reviewer else ""
    request = decision.request
    if request.status == "approved":
        return f"✅ {label} was approved{who}." + (" It's queued for publishing." if publishing_queued else "")
    if request.status == "changes_requested":
        return f"✏️ Changes requested on {label}{who}: {request.feedback}. A new version is on its way."
    if request.status == "rejected":
        return f"❌ {label} was rejected{who}. Reason: {request.feedback}"
    return None


def earlier_stage_text(decision: Decision, reviewer: str | None, label: str) -> str:
    """What an earlier stage's reviewer is told when a later stage sends the version they approved back."""
    return (
        f"✏️ {decision.stage.name} ({reviewer or 'a reviewer'}) asked for changes on {label}, "
        f"which you approved: {decision.request.feedback}. The new version comes back to stage 1 for review."
    )


def worded(notices: list[DecisionNotice], label: str, *, publishing_queued: bool = False) -> list[Notice]:
    """The notices as text for `outbox.deliver`."""
    result = []
    for notice in notices:
        text = (
            earlier_stage_text(notice.decision, notice.reviewer, label)
            if notice.earlier_stage
            else outcome_text(notice.decision, notice.reviewer, label, publishing_queued=publishing_queued)
        )
        if text:
            result.append(Notice(notice.recipient, text))
    return result
