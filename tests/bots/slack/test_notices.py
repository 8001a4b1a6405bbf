"""The words of a decision's notices are the adapter's; publishing is mentioned only when it was queued."""

from __future__ import annotations

from bots.slack.notices import earlier_stage_text, outcome_text
from core.workflow.approvals import Decision
from core.workflow.models import ApprovalRequest
from core.workflow.workflows import Stage


def _decision(status: str, *, publish: bool = False, feedback: str | None = None) -> Decision:
    request = ApprovalRequest(status=status, feedback=feedback, current_stage=2, revision_count=1)
    return Decision(request, True, Stage(order=2, name="Client sign-off"), 2, final=True, publish=publish, stage_no=2)


def test_an_approval_claims_publishing_only_when_the_adapter_queued_it():
    approved = _decision("approved", publish=True)
    assert (
        outcome_text(approved, "Chloe", "“Post” (LinkedIn post)") == "✅ “Post” (LinkedIn post) was approved by Chloe."
    )
    assert outcome_text(approved, "Chloe", "“Post”", publishing_queued=True) == (
        "✅ “Post” was approved by Chloe. It's queued for publishing."
    )


def test_changes_and_rejections_say_what_the_reviewer_wrote():
    changes = _decision("changes_requested", feedback="Mention the Bangalore meetup")
    assert "Bangalore meetup" in str(outcome_text(changes, "Manoj", "“Post”"))
    assert earlier_stage_text(changes, None, "“Post”").startswith("✏️ Client sign-off (a reviewer) asked for changes")
    rejected = _decision("rejected", feedback="Off-brand")
    assert outcome_text(rejected, None, "“Post”") == "❌ “Post” was rejected. Reason: Off-brand"
    assert outcome_text(_decision("pending"), "Manoj", "“Post”") is None
