"""The approval engine on a real database: stages, permissions, races, revisions, solo approval, QA."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.common.errors import NotAllowed
from core.db.session import session_scope
from core.notify.ports import ChatRef, RecordingNotifier
from core.repurposing.models import GeneratedContent
from core.system.models import AuditLog
from core.work.models import WorkUnit
from core.workflow import approvals, qa_requests, recipients, revising, solo, workflows
from core.workflow.errors import AwaitingTeamApproval, InvalidQAScore, InvalidWorkflow, NotAManager, NotAnApprover
from core.workflow.models import ApprovalRequest, QARequest, Revision
from tasks.registry import load_all
from tests.core.workflow.builders import add_workflow, build_team, make_draft


async def _setup(deps, *, workflow: bool = True, auto_publish: bool = False):
    async with session_scope(deps.sessionmaker) as s:
        team = await build_team(s)
        if workflow:
            await add_workflow(s, team, auto_publish=auto_publish)
    draft_id = await make_draft(deps, team)
    return team, draft_id


async def test_two_stage_workflow_from_submission_to_final_approval(deps):
    load_all()  # the publishing handler is registered, as in every process that runs the bots
    team, draft_id = await _setup(deps, auto_publish=True)
    async with session_scope(deps.sessionmaker) as s:
        req = await approvals.submit_for_approval(session=s, draft_id=draft_id, requested_by=team.creator.id)
        again = await approvals.submit_for_approval(session=s, draft_id=draft_id, requested_by=team.creator.id)
        assert again.id == req.id and req.workflow_id is not None and req.current_stage == 1
        assert [p.request.id for p in await approvals.pending_for_user(session=s, user_id=team.manager.id)] == [req.id]
        assert await approvals.pending_for_user(session=s, user_id=team.client_reviewer.id) == []

        first = await approvals.approve(session=s, request_id=req.id, by_user_id=team.manager.id, expected_stage=1)
        assert first.applied and not first.final and first.request.current_stage == 2
        assert first.request.status == "pending" and first.next_stage == 2
        assert first.publish_unit is None
        assert [p.stage.name for p in await approvals.pending_for_user(session=s, user_id=team.client_reviewer.id)] == [
            "Client sign-off"
        ]
        assert await approvals.pending_for_user(session=s, user_id=team.manager.id) == []

        last = await approvals.approve(
            session=s, request_id=req.id, by_user_id=team.client_reviewer.id, expected_stage=2
        )
        # Auto-publish: the publishing unit is added in the approval's own transaction.
        assert last.applied and last.final and last.publish and last.publish_unit is not None
        assert last.request.status == "approved" and last.request.reviewed_by == team.client_reviewer.id
        unit = await s.get_one(WorkUnit, last.publish_unit)
        assert unit.kind == approvals.PUBLISH_TASK == "publishing.publish_draft"
        assert unit.payload == {"draft_id": str(draft_id), "approval_request_id": str(req.id)}
        actions = set(
            (await s.scalars(select(AuditLog.action).where(AuditLog.resource_id.in_([req.id, draft_id])))).all()
        )
    assert {"approval_requested", "approval_stage_approved", "draft_approved", "draft_ready_to_publish"} <= actions


async def test_an_approval_that_rolls_back_leaves_no_publishing_unit(deps):
    load_all()
    team, draft_id = await _setup(deps, auto_publish=True)
    async with session_scope(deps.sessionmaker) as s:
        req = await approvals.submit_for_approval(session=s, draft_id=draft_id, requested_by=team.creator.id)
        await approvals.approve(session=s, request_id=req.id, by_user_id=team.manager.id, expected_stage=1)
    async with deps.sessionmaker() as s:
        last = await approvals.approve(
            session=s, request_id=req.id, by_user_id=team.client_reviewer.id, expected_stage=2
        )
        assert last.publish_unit is not None
        await s.rollback()  # e.g. the process died before the commit: not approved, and nothing to publish
    async with deps.sessionmaker() as s:
        assert (await s.get_one(ApprovalRequest, req.id)).status == "pending"
        assert await s.get(WorkUnit, last.publish_unit) is None


async def test_a_workflow_without_auto_publish_queues_no_publishing(deps):
    load_all()
    team, draft_id = await _setup(deps, auto_publish=False)
    async with session_scope(deps.sessionmaker) as s:
        req = await approvals.submit_for_approval(session=s, draft_id=draft_id, requested_by=team.creator.id)
        await approvals.approve(session=s, request_id=req.id, by_user_id=team.manager.id, expected_stage=1)
        last = await approvals.approve(
            session=s, request_id=req.id, by_user_id=team.client_reviewer.id, expected_stage=2
        )
        assert last.final and not last.publish and last.publish_unit is None
        count = await s.scalar(
            select(func.count())
            .select_from(WorkUnit)
            .where(WorkUnit.kind == approvals.PUBLISH_TASK, WorkUnit.dedupe_key == str(req.id))
        )
    assert count == 0


async def test_only_the_current_stage_approvers_may_act_and_nothing_changes_otherwise(deps):
    team, draft_id = await _setup(deps)
    async with session_scope(deps.sessionmaker) as s:
        req = await approvals.submit_for_approval(session=s, draft_id=draft_id, requested_by=team.creator.id)
    for user, stage in ((team.outsider, 1), (team.client_reviewer, 1), (team.manager, 2)):
        async with session_scope(deps.sessionmaker) as s:
            with pytest.raises(NotAnApprover) as err:
                await approvals.approve(session=s, request_id=req.id, by_user_id=user.id, expected_stage=stage)
            assert "approver" in err.value.user_message
    async with deps.sessionmaker() as s:
        row = await s.get_one(ApprovalRequest, req.id)
        assert (row.status, row.current_stage, row.reviewed_by) == ("pending", 1, None)


async def test_two_transactions_approving_the_same_stage_at_once_advance_it_once(deps):
    team, draft_id = await _setup(deps)
    async with session_scope(deps.sessionmaker) as s:
        req = await approvals.submit_for_approval(session=s, draft_id=draft_id, requested_by=team.creator.id)
    gate = asyncio.Event()

    async def click():
        async with session_scope(deps.sessionmaker) as s:
            await gate.wait()
            return await approvals.approve(session=s, request_id=req.id, by_user_id=team.manager.id, expected_stage=1)

    tasks = [asyncio.create_task(click()) for _ in range(2)]
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*tasks)
    assert sorted(r.applied for r in results) == [False, True]
    async with deps.sessionmaker() as s:
        row = await s.get_one(ApprovalRequest, req.id)
        stage_audits = await s.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.resource_id == req.id, AuditLog.action == "approval_stage_approved")
        )
    assert (row.status, row.current_stage, stage_audits) == ("pending", 2, 1)


async def test_a_stale_click_from_before_a_revision_does_not_approve_the_new_version(deps):
    team, draft_id = await _setup(deps)
    async with session_scope(deps.sessionmaker) as s:
        req = await approvals.submit_for_approval(session=s, draft_id=draft_id, requested_by=team.creator.id)
        before = (await s.get_one(GeneratedContent, draft_id)).content_text
    async with session_scope(deps.sessionmaker) as s:
        d = await approvals.request_changes(
            session=s,
            request_id=req.id,
            by_user_id=team.manager.id,
            expected_stage=1,
            feedback="Shorter, and mention the Bangalore meetup",
            expected_revision=0,
        )
        assert d.applied and d.request.status == "changes_requested" and d.request.revision_count == 1
        assert d.request.feedback == "Shorter, and mention the Bangalore meetup"
    async with session_scope(deps.sessionmaker) as s:
        draft = await revising.apply_revision(
            session=s, writer=deps.require_ai().writer, index=None, request_id=req.id, by_user_id=team.manager.id
        )
        assert draft is not None and draft.content_text != before
    async with session_scope(deps.sessionmaker) as s:
        assert (
            await revising.apply_revision(
                session=s, writer=deps.require_ai().writer, index=None, request_id=req.id, by_user_id=team.manager.id
            )
            is None
        )
        revisions = (await s.scalars(select(Revision).where(Revision.approval_request_id == req.id))).all()
        assert [(r.revision_number, r.assigned_to, r.status) for r in revisions] == [(1, team.creator.id, "completed")]
        stale = await approvals.approve(
            session=s, request_id=req.id, by_user_id=team.manager.id, expected_stage=1, expected_revision=0
        )
        assert not stale.applied and stale.request.current_stage == 1 and stale.request.status == "pending"
        fresh = await approvals.approve(
            session=s, request_id=req.id, by_user_id=team.manager.id, expected_stage=1, expected_revision=1
        )
        assert fresh.applied and fresh.request.current_stage == 2


async def test_rejection_records_the_reason_and_closes_the_request(deps):
    team, draft_id = await _setup(deps)
    notifier = deps.notifier
    assert isinstance(notifier, RecordingNotifier)
    async with session_scope(deps.sessionmaker) as s:
        req = await approvals.submit_for_approval(session=s, draft_id=draft_id, requested_by=team.creator.id)
        d = await approvals.reject(
            session=s,
            request_id=req.id,
            by_user_id=team.manager.id,
            expected_stage=1,
            reason="Off-brand claims about revenue",
        )
        assert d.applied and d.request.status == "rejected" and d.request.feedback == "Off-brand claims about revenue"
        text = f"Rejected: {d.request.feedback}"
        assert await recipients.tell_creator(session=s, notifier=notifier, request=d.request, text=text) == 1
        again = await approvals.reject(
            session=s, request_id=req.id, by_user_id=team.manager.id, expected_stage=1, reason="again"
        )
        assert not again.applied and again.request.feedback == "Off-brand claims about revenue"
        late = await approvals.approve(session=s, request_id=req.id, by_user_id=team.manager.id, expected_stage=1)
        assert not late.applied and late.request.status == "rejected"
    assert notifier.sent[0][0] == ChatRef("telegram", team.creator_chat)
    assert "Off-brand" in notifier.sent[0][1].text


async def test_solo_creator_without_workflow_gets_an_auto_approvable_request_and_idempotent_solo_approve(deps):
    team, draft_id = await _setup(deps, workflow=False)
    async with session_scope(deps.sessionmaker) as s:
        req = await approvals.submit_for_approval(session=s, draft_id=draft_id, requested_by=team.creator.id)
        assert req.workflow_id is None
        assert [p.request.id for p in await approvals.pending_for_user(session=s, user_id=team.creator.id)] == [req.id]
        with pytest.raises(NotAllowed):
            await solo.approve_draft_solo(session=s, draft_id=draft_id, user_id=team.manager.id)
    async with session_scope(deps.sessionmaker) as s:
        one = await solo.approve_draft_solo(session=s, draft_id=draft_id, user_id=team.creator.id)
        two = await solo.approve_draft_solo(session=s, draft_id=draft_id, user_id=team.creator.id)
        rows = (await s.scalars(select(ApprovalRequest).where(ApprovalRequest.generated_content_id == draft_id))).all()
    assert one.id == two.id == req.id and [r.status for r in rows] == ["approved"]


async def test_solo_approval_is_refused_while_a_team_workflow_applies(deps):
    team, draft_id = await _setup(deps)
    async with session_scope(deps.sessionmaker) as s:
        with pytest.raises(AwaitingTeamApproval):
            await solo.approve_draft_solo(session=s, draft_id=draft_id, user_id=team.creator.id)


async def test_workflow_definitions_are_validated_and_need_a_manager(deps):
    async with session_scope(deps.sessionmaker) as s:
        team = await build_team(s)
        with pytest.raises(InvalidWorkflow):
            workflows.parse_stages([{"order": 1, "name": "Review"}])
        with pytest.raises(InvalidWorkflow):
            workflows.parse_stages([{"order": 1, "name": "Review", "role": "emperor"}])
        assert [
            st.name
            for st in workflows.parse_stages(
                [{"order": 2, "name": "B", "role": "client"}, {"order": 1, "name": "A", "role": "manager"}]
            )
        ] == ["A", "B"]
        with pytest.raises(NotAManager):
            await workflows.save_workflow(
                session=s,
                organization_id=team.org.id,
                by_user_id=team.outsider.id,
                name="x",
                stages=[workflows.Stage(1, "Review", role="manager")],
            )
        saved = await workflows.save_workflow(
            session=s,
            organization_id=team.org.id,
            by_user_id=team.manager.id,
            name="Org default",
            stages=[workflows.Stage(1, "Review", role="manager")],
        )
        replaced = await workflows.save_workflow(
            session=s,
            organization_id=team.org.id,
            by_user_id=team.manager.id,
            name="Org default v2",
            stages=[workflows.Stage(1, "Owner", role="owner")],
        )
        assert saved.id == replaced.id and replaced.stages[0]["role"] == "owner"
        found = await workflows.workflow_for(session=s, organization_id=team.org.id, client_account_id=team.client.id)
        assert found is not None and found.id == saved.id


async def test_qa_request_sla_reminder_once_and_score_flows_back(deps):
    team, draft_id = await _setup(deps)
    start = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    async with session_scope(deps.sessionmaker) as s:
        with pytest.raises(NotAManager):
            await qa_requests.request_qa(session=s, draft_id=draft_id, requested_by=team.creator.id)
        qa = await qa_requests.request_qa(
            session=s,
            draft_id=draft_id,
            requested_by=team.manager.id,
            qa_type="brand_safety",
            priority="high",
            sla_hours=4,
            now=start,
        )
        assert qa.due_at == start + timedelta(hours=4) and qa.status == "pending" and qa.sla_hours == 4
        same = await qa_requests.request_qa(
            session=s, draft_id=draft_id, requested_by=team.manager.id, qa_type="brand_safety", now=start
        )
        assert same.id == qa.id
        early = await qa_requests.qa_due_for_reminder(session=s, now=start + timedelta(hours=1))
        assert qa.id not in [q.id for q in early]
        due = await qa_requests.qa_due_for_reminder(session=s, now=start + timedelta(hours=2, minutes=30))
        assert qa.id in [q.id for q in due]
        await qa_requests.mark_qa_reminded(session=s, qa=qa, now=start + timedelta(hours=2, minutes=30))
        assert qa.id not in [
            q.id for q in await qa_requests.qa_due_for_reminder(session=s, now=start + timedelta(hours=3))
        ]
        with pytest.raises(InvalidQAScore):
            await qa_requests.complete_qa(session=s, qa_id=qa.id, reviewer_id=team.owner.id, score=140, feedback=None)
        done = await qa_requests.complete_qa(
            session=s,
            qa_id=qa.id,
            reviewer_id=team.owner.id,
            score=87.5,
            feedback="Tone is right; check the stat in line 2",
        )
        again = await qa_requests.complete_qa(session=s, qa_id=qa.id, reviewer_id=team.owner.id, score=10, feedback="x")
    assert done.status == again.status == "completed"
    assert float(again.quality_score or 0) == 87.5 and again.feedback == "Tone is right; check the stat in line 2"
    async with deps.sessionmaker() as s:
        row = await s.get_one(QARequest, qa.id)
        assert qa.id not in [
            q.id for q in await qa_requests.qa_due_for_reminder(session=s, now=start + timedelta(days=3))
        ]
    assert row.status == "completed"
