"""Approval requests and the decisions on them: submit, approve, request changes, reject.

Every state change is a conditional UPDATE guarded by what the caller saw (stage, revision), so a retried or
doubled click applies at most once, whichever process it reaches. No chat SDK here: the adapters call these
services with ids and render the results."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import ClientAccount, TeamMember
from core.common.clock import utcnow
from core.repurposing.errors import DraftNotFound
from core.repurposing.models import GeneratedContent
from core.system import audit
from core.work import submit as work
from core.work.registry import HANDLERS
from core.workflow import members, workflows
from core.workflow.errors import (
    ApprovalNotFound,
    NeedsFeedback,
    NeedsReason,
    NotAnApprover,
)
from core.workflow.models import ApprovalRequest, ApprovalWorkflow

OPEN_STATUSES = ("pending", "changes_requested")


PUBLISH_TASK = "publishing.publish_draft"


def publishing_available() -> bool:
    """Whether approved drafts can be published: a handler for PUBLISH_TASK is registered."""
    return PUBLISH_TASK in HANDLERS


async def draft_for_update(session: AsyncSession, draft_id: uuid.UUID) -> GeneratedContent:
    # The draft row lock serialises submissions and solo approvals of one draft across processes.
    draft = await session.scalar(select(GeneratedContent).where(GeneratedContent.id == draft_id).with_for_update())
    if draft is None:
        raise DraftNotFound()
    return draft


async def open_request(session: AsyncSession, draft_id: uuid.UUID) -> ApprovalRequest | None:
    return await session.scalar(
        select(ApprovalRequest)
        .where(ApprovalRequest.generated_content_id == draft_id, ApprovalRequest.status.in_(OPEN_STATUSES))
        .order_by(ApprovalRequest.created_at.desc())
        .limit(1)
    )


async def submit_for_approval(
    *, session: AsyncSession, draft_id: uuid.UUID, requested_by: uuid.UUID | None
) -> ApprovalRequest:
    """Open an approval request for a draft under its client's or organization's workflow (idempotent:
    an open request is returned). Without a workflow the request is the creator's own to approve."""
    draft = await draft_for_update(session, draft_id)
    existing = await open_request(session, draft.id)
    if existing is not None:
        return existing
    scope = await workflows.draft_scope(session=session, draft=draft)
    workflow = await workflows.workflow_for(
        session=session, organization_id=scope.organization_id, client_account_id=scope.client_account_id
    )
    request = ApprovalRequest(
        generated_content_id=draft.id,
        workflow_id=workflow.id if workflow else None,
        current_stage=1,
        status="pending",
        requested_by=requested_by or draft.user_id,
        revision_count=0,
    )
    session.add(request)
    await session.flush()
    await audit.record(
        session=session,
        action="approval_requested",
        user_id=request.requested_by,
        organization_id=scope.organization_id,
        resource_type="approval_request",
        resource_id=request.id,
        metadata={"draft_id": str(draft.id), "workflow_id": str(workflow.id) if workflow else None},
    )
    return request


async def get_request(*, session: AsyncSession, request_id: uuid.UUID) -> ApprovalRequest:
    request = await session.get(ApprovalRequest, request_id, populate_existing=True)
    if request is None:
        raise ApprovalNotFound()
    return request


async def stages_of(*, session: AsyncSession, request: ApprovalRequest) -> list[workflows.Stage]:
    """The request's stages; a request without a workflow has one stage: its creator."""
    if request.workflow_id is None:
        approvers = (request.requested_by,) if request.requested_by else ()
        return [workflows.Stage(order=1, name="Creator", approvers=approvers)]
    workflow = await session.get(ApprovalWorkflow, request.workflow_id)
    if workflow is None:
        raise ApprovalNotFound()
    return workflows.parse_stages(workflow.stages)


async def can_act(
    *, session: AsyncSession, request: ApprovalRequest, user_id: uuid.UUID, stage_no: int | None = None
) -> bool:
    """Whether `user_id` approves stage `stage_no` (default: the current stage) of this request."""
    stages = await stages_of(session=session, request=request)
    number = stage_no if stage_no is not None else request.current_stage or 1
    if not 1 <= number <= len(stages):
        return False
    stage = stages[number - 1]
    if user_id in stage.approvers:
        return True
    if stage.role is None or request.workflow_id is None:
        return False
    workflow = await session.get_one(ApprovalWorkflow, request.workflow_id)
    return await members.role_in(session, await workflows.workflow_org(session, workflow), user_id) == stage.role


@dataclass
class Decision:
    """The result of an approver's action. `applied` is False when the action had already happened
    (a retry, a replay or the second of two simultaneous clicks): nothing changed."""

    request: ApprovalRequest
    applied: bool
    stage: workflows.Stage
    stage_count: int
    final: bool = False
    publish: bool = False
    stage_no: int = 1  # the stage the decision was taken at
    # The PUBLISH_TASK unit added with the approval (auto-publish): the adapter pushes it after the commit.
    publish_unit: uuid.UUID | None = None

    @property
    def next_stage(self) -> int | None:
        status, current = self.request.status, self.request.current_stage or 1
        return current if status == "pending" else None


async def guarded_update(
    session: AsyncSession,
    request_id: uuid.UUID,
    expected_stage: int,
    expected_revision: int | None,
    values: dict[str, Any],
) -> bool:
    # Why a conditional UPDATE: PostgreSQL re-checks the WHERE clause after waiting for a concurrent
    # writer's row lock, so of two clicks on the same stage exactly one matches; the loser sees 0 rows.
    conditions = [
        ApprovalRequest.id == request_id,
        ApprovalRequest.status == "pending",
        ApprovalRequest.current_stage == expected_stage,
    ]
    if expected_revision is not None:
        conditions.append(ApprovalRequest.revision_count == expected_revision)
    stmt = (
        update(ApprovalRequest)
        .where(*conditions)
        .values(**values)
        .returning(ApprovalRequest.id)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(stmt)).first() is not None


async def _prepare(
    session: AsyncSession, request_id: uuid.UUID, by_user_id: uuid.UUID, expected_stage: int
) -> tuple[ApprovalRequest, list[workflows.Stage]]:
    request = await get_request(session=session, request_id=request_id)
    stages = await stages_of(session=session, request=request)
    if not await can_act(session=session, request=request, user_id=by_user_id, stage_no=expected_stage):
        raise NotAnApprover()
    return request, stages


async def _audit_org(session: AsyncSession, request: ApprovalRequest) -> uuid.UUID | None:
    if request.workflow_id is None:
        return None
    workflow = await session.get(ApprovalWorkflow, request.workflow_id)
    return await workflows.workflow_org(session, workflow) if workflow else None


async def approve(
    *,
    session: AsyncSession,
    request_id: uuid.UUID,
    by_user_id: uuid.UUID,
    expected_stage: int,
    expected_revision: int | None = None,
) -> Decision:
    """Approve the stage the approver saw: advance to the next stage, or approve the draft at the last."""
    request, stages = await _prepare(session, request_id, by_user_id, expected_stage)
    stage = stages[expected_stage - 1]
    final = expected_stage >= len(stages)
    now = utcnow()
    values: dict[str, Any] = {"reviewed_by": by_user_id, "reviewed_at": now}
    values.update({"status": "approved"} if final else {"current_stage": expected_stage + 1})
    applied = await guarded_update(session, request_id, expected_stage, expected_revision, values)
    request = await get_request(session=session, request_id=request_id)
    decision = Decision(request, applied, stage, len(stages), final=final and applied, stage_no=expected_stage)
    if not applied:
        return decision
    org = await _audit_org(session, request)
    await audit.record(
        session=session,
        action="approval_stage_approved",
        user_id=by_user_id,
        organization_id=org,
        resource_type="approval_request",
        resource_id=request.id,
        metadata={
            "stage": expected_stage,
            "stage_name": stage.name,
            "final": final,
            "revision": request.revision_count or 0,
        },
    )
    if final:
        workflow = await session.get(ApprovalWorkflow, request.workflow_id) if request.workflow_id else None
        # Only when something publishes (a PUBLISH_TASK handler is registered in this process).
        decision.publish = bool(workflow and workflow.auto_publish) and publishing_available()
        await audit.record(
            session=session,
            action="draft_approved",
            user_id=by_user_id,
            organization_id=org,
            resource_type="generated_content",
            resource_id=request.generated_content_id,
            metadata={"approval_request_id": str(request.id)},
        )
        if decision.publish:
            # The publishing unit is part of the approval's transaction: approved means it will be published,
            # whatever happens to this process after the commit (the sweeper pushes a unit nobody pushed).
            decision.publish_unit, _ = await work.add(
                session,
                PUBLISH_TASK,
                {"draft_id": str(request.generated_content_id), "approval_request_id": str(request.id)},
                key=str(request.id),
            )
            await audit.record(
                session=session,
                action="draft_ready_to_publish",
                user_id=by_user_id,
                organization_id=org,
                resource_type="generated_content",
                resource_id=request.generated_content_id,
                metadata={"approval_request_id": str(request.id)},
            )
    return decision


async def request_changes(
    *,
    session: AsyncSession,
    request_id: uuid.UUID,
    by_user_id: uuid.UUID,
    expected_stage: int,
    feedback: str,
    expected_revision: int | None = None,
) -> Decision:
    """Send the draft back with feedback (status `changes_requested`); `revising.apply_revision` rewrites it."""
    if not feedback or not feedback.strip():
        raise NeedsFeedback()
    seen = _Seen(request_id, by_user_id, expected_stage, expected_revision)
    return await _decide(session, seen, _CHANGES, feedback.strip())


@dataclass(frozen=True)
class _Seen:
    """What a reviewer acted on: the request at the stage and revision they saw."""

    request_id: uuid.UUID
    by_user_id: uuid.UUID
    stage: int
    revision: int | None


@dataclass(frozen=True)
class _Closing:
    """How a change request or a rejection leaves `pending`: the new values and the audit entry."""

    values: dict[str, Any]
    action: str
    note_key: str


_CHANGES = _Closing(
    {"status": "changes_requested", "revision_count": ApprovalRequest.revision_count + 1},
    "approval_changes_requested",
    "feedback",
)
_REJECT = _Closing({"status": "rejected"}, "approval_rejected", "reason")


async def _decide(session: AsyncSession, seen: _Seen, closing: _Closing, text: str) -> Decision:
    """A change request or a rejection: the request leaves `pending` with the reviewer's text, and is audited."""
    request, stages = await _prepare(session, seen.request_id, seen.by_user_id, seen.stage)
    values = {**closing.values, "feedback": text, "reviewed_by": seen.by_user_id, "reviewed_at": utcnow()}
    applied = await guarded_update(session, seen.request_id, seen.stage, seen.revision, values)
    request = await get_request(session=session, request_id=seen.request_id)
    if applied:
        await audit.record(
            session=session,
            action=closing.action,
            user_id=seen.by_user_id,
            organization_id=await _audit_org(session, request),
            resource_type="approval_request",
            resource_id=request.id,
            metadata={"stage": seen.stage, closing.note_key: text[:500]},
        )
    return Decision(request, applied, stages[seen.stage - 1], len(stages), stage_no=seen.stage)


async def state_text(
    *, session: AsyncSession, request: ApprovalRequest, expected_stage: int, expected_revision: int | None
) -> str:
    """Why an action on (stage, revision) did nothing, in terms of where the request really is."""
    stages = await stages_of(session=session, request=request)

    def name(n: int) -> str:
        return stages[n - 1].name if 1 <= n <= len(stages) else f"stage {n}"

    reviewer = await members.display_name(session=session, user_id=request.reviewed_by) or "someone"
    status, current = request.status, request.current_stage or 1
    if status == "approved":
        return f"Nothing changed: this draft was already approved (by {reviewer})."
    if status == "rejected":
        return f"Nothing changed: this draft was already rejected by {reviewer}: {request.feedback}"
    if status == "changes_requested":
        return (
            f"Nothing changed: {reviewer} asked for changes ({request.feedback}) and a new version is being "
            "written. It will be posted in the thread."
        )
    if expected_revision is not None and (request.revision_count or 0) != expected_revision:
        return (
            f"Nothing changed: this is an older version. Version {(request.revision_count or 0) + 1} is in the "
            f"thread, now at stage {current}/{len(stages)} ({name(current)})."
        )
    if current != expected_stage:
        where = "already past" if current > expected_stage else "not at"
        return (
            f"Nothing changed: the draft is {where} stage {expected_stage} ({name(expected_stage)}); "
            f"it is waiting at stage {current}/{len(stages)}, {name(current)}."
        )
    return "Nothing changed: someone else acted on this stage at the same moment."


async def reject(
    *,
    session: AsyncSession,
    request_id: uuid.UUID,
    by_user_id: uuid.UUID,
    expected_stage: int,
    reason: str,
    expected_revision: int | None = None,
) -> Decision:
    """Reject the draft with a reason; the request is closed."""
    if not reason or not reason.strip():
        raise NeedsReason()
    seen = _Seen(request_id, by_user_id, expected_stage, expected_revision)
    return await _decide(session, seen, _REJECT, reason.strip())


@dataclass
class PendingApproval:
    request: ApprovalRequest
    draft: GeneratedContent
    stage: workflows.Stage
    stage_count: int


async def pending_for_user(*, session: AsyncSession, user_id: uuid.UUID, limit: int = 50) -> list[PendingApproval]:
    """Pending requests whose current stage this user may approve, oldest first."""
    org_ids = select(TeamMember.organization_id).where(TeamMember.user_id == user_id)
    client_ids = select(ClientAccount.id).where(ClientAccount.organization_id.in_(org_ids))
    rows = await session.execute(
        select(ApprovalRequest, GeneratedContent)
        .join(GeneratedContent, GeneratedContent.id == ApprovalRequest.generated_content_id)
        .outerjoin(ApprovalWorkflow, ApprovalWorkflow.id == ApprovalRequest.workflow_id)
        .where(
            ApprovalRequest.status == "pending",
            or_(
                ApprovalWorkflow.organization_id.in_(org_ids),
                ApprovalWorkflow.client_account_id.in_(client_ids),
                and_(ApprovalRequest.workflow_id.is_(None), ApprovalRequest.requested_by == user_id),
            ),
        )
        .order_by(ApprovalRequest.requested_at, ApprovalRequest.id)
        .limit(limit * 4)
    )
    result: list[PendingApproval] = []
    for request, draft in rows:
        if await can_act(session=session, request=request, user_id=user_id):
            stages = await stages_of(session=session, request=request)
            stage = stages[(request.current_stage or 1) - 1]
            result.append(PendingApproval(request, draft, stage, len(stages)))
        if len(result) >= limit:
            break
    return result
