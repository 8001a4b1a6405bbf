"""Human QA in the engine: who sends and reviews, the SLA by priority, and what a failure does when the draft has
already left review."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.db.session import session_scope
from core.workflow import approvals, qa
from core.workflow.errors import NotAManager
from tests.core.workflow.builders import add_workflow, build_team, make_draft


async def _pending(deps):
    async with session_scope(deps.sessionmaker) as s:
        team = await build_team(s)
        await add_workflow(s, team)
    draft_id = await make_draft(deps, team)
    async with session_scope(deps.sessionmaker) as s:
        request = await approvals.submit_for_approval(session=s, draft_id=draft_id, requested_by=team.creator.id)
    return team, request


async def test_the_sla_follows_the_priority_and_only_managers_send_to_qa(deps):
    team, request = await _pending(deps)
    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    async with session_scope(deps.sessionmaker) as s:
        with pytest.raises(NotAManager):
            await qa.send_to_qa(
                session=s,
                request_id=request.id,
                by_user_id=team.client_reviewer.id,
                qa_type="fact_check",
                priority="urgent",
                note=None,
                now=start,
            )
        sent = await qa.send_to_qa(
            session=s,
            request_id=request.id,
            by_user_id=team.manager.id,
            qa_type="fact_check",
            priority="urgent",
            note="The 3-year figure",
            now=start,
        )
        again = await qa.send_to_qa(
            session=s,
            request_id=request.id,
            by_user_id=team.owner.id,
            qa_type="fact_check",
            priority="low",
            note=None,
            now=start,
        )
        assert sent.created and not again.created and again.qa.id == sent.qa.id
        assert sent.qa.due_at == start + timedelta(hours=4) and sent.qa.sla_hours == 4
        (item,) = await qa.queue_for(session=s, user_id=team.owner.id) or []
        assert (item.qa.id, item.note, item.requested_by) == (sent.qa.id, "The 3-year figure", "Manoj")
        assert await qa.queue_for(session=s, user_id=team.manager.id) == []  # not their own
        assert await qa.queue_for(session=s, user_id=team.client_reviewer.id) is None  # no QA queue at all


async def test_a_failure_after_the_draft_was_approved_says_it_was_not_sent_back(deps):
    team, request = await _pending(deps)
    async with session_scope(deps.sessionmaker) as s:
        sent = await qa.send_to_qa(
            session=s,
            request_id=request.id,
            by_user_id=team.manager.id,
            qa_type="content_review",
            priority="normal",
            note=None,
        )
        await approvals.approve(session=s, request_id=request.id, by_user_id=team.manager.id, expected_stage=1)
        await approvals.approve(session=s, request_id=request.id, by_user_id=team.client_reviewer.id, expected_stage=2)
        with pytest.raises(qa.QANeedsNote):
            await qa.finish_qa(session=s, qa_id=sent.qa.id, reviewer_id=team.owner.id, passed=False, note=" ")
        outcome = await qa.finish_qa(
            session=s, qa_id=sent.qa.id, reviewer_id=team.owner.id, passed=False, note="Wrong stat"
        )
        assert outcome.applied and outcome.sent_back is None and outcome.submitter == team.creator.id
        assert qa.outcome_text(outcome, "“Post” (LinkedIn post)", "Olivia") == (
            "❌ QA failed: Content review of “Post” (LinkedIn post) by Olivia: Wrong stat. The draft was already "
            "approved, so it wasn't sent back."
        )
        assert (await approvals.get_request(session=s, request_id=request.id)).status == "approved"
        with pytest.raises(qa.NotUnderReview):
            await qa.send_to_qa(
                session=s,
                request_id=request.id,
                by_user_id=team.manager.id,
                qa_type="brand_safety",
                priority="normal",
                note=None,
            )
