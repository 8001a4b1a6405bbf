"""The approval engine: workflows with ordered stages, approval requests, revisions and human QA.

No chat SDK here: the Slack adapter and the Telegram bot call these services with ids and render the
results. Every state change is a conditional UPDATE guarded by what the caller saw (stage, revision),
so a retried or doubled click applies at most once, whichever process it reaches.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import ChatIdentity, ClientAccount, TeamMember, User
from core.ai import nlp
from core.common.clock import utcnow
from core.common.errors import NotAllowed
from core.content.models import ContentAsset
from core.notify.ports import ChatRef, Notifier, OutgoingMessage
from core.repurposing.errors import DraftNotFound
from core.repurposing.models import GeneratedContent, RepurposingJob
from core.system import audit
from core.system.models import AuditLog
from core.work.registry import HANDLERS
from core.workflow import revision_check
from core.workflow.errors import (
    ApprovalNotFound,
    AwaitingTeamApproval,
    InvalidQAScore,
    InvalidWorkflow,
    NeedsFeedback,
    NeedsReason,
    NotAManager,
    NotAnApprover,
    NotYourDraft,
    QANotFound,
)
from core.workflow.models import ApprovalRequest, ApprovalWorkflow, QARequest

ROLES = ("owner", "admin", "manager", "creator", "client")
MANAGER_ROLES = frozenset({"owner", "admin", "manager"})
OPEN_STATUSES = ("pending", "changes_requested")
QA_OPEN_STATUSES = ("pending", "in_review")
QA_PRIORITIES = ("low", "normal", "high", "urgent")
QA_REMINDER_ACTION = "qa_reminder_sent"
PUBLISH_TASK = "publishing.publish_draft"


def publishing_available() -> bool:
    """Whether approved drafts can be published: a handler for PUBLISH_TASK is registered."""
    return PUBLISH_TASK in HANDLERS


# ------------------------------------------------------------------------------------------ stages


@dataclass(frozen=True)
class Stage:
    order: int
    name: str
    approvers: tuple[uuid.UUID, ...] = ()
    role: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "order": self.order,
            "name": self.name,
            "approvers": [str(a) for a in self.approvers],
            "role": self.role,
        }


def parse_stages(raw: Any) -> list[Stage]:
    """Validate `approval_workflows.stages` and return the stages in order (stage n is index n-1)."""
    if not isinstance(raw, list) or not raw:
        raise InvalidWorkflow()
    stages = []
    for i, item in enumerate(raw, start=1):
        if not isinstance(item, dict) or not str(item.get("name") or "").strip():
            raise InvalidWorkflow()
        try:
            approvers = tuple(uuid.UUID(str(a)) for a in item.get("approvers") or [])
        except ValueError as exc:
            raise InvalidWorkflow(detail=f"bad approver id in stage {i}") from exc
        role = item.get("role") or None
        if role is not None and role not in ROLES:
            raise InvalidWorkflow(f"Unknown role '{role}'. Use one of: {', '.join(ROLES)}.")
        if not approvers and role is None:
            raise InvalidWorkflow()
        stages.append(
            Stage(order=int(item.get("order", i)), name=str(item["name"]).strip()[:100], approvers=approvers, role=role)
        )
    stages.sort(key=lambda s: s.order)
    return stages


async def _role_in(session: AsyncSession, organization_id: uuid.UUID | None, user_id: uuid.UUID) -> str | None:
    if organization_id is None:
        return None
    return await session.scalar(
        select(TeamMember.role).where(
            TeamMember.organization_id == organization_id,
            TeamMember.user_id == user_id,
            or_(TeamMember.status.is_(None), TeamMember.status == "active"),
        )
    )


async def member_role(*, session: AsyncSession, organization_id: uuid.UUID, user_id: uuid.UUID) -> str | None:
    """The user's role in the organization, or None when they aren't an active member."""
    return await _role_in(session, organization_id, user_id)


async def require_manager(*, session: AsyncSession, organization_id: uuid.UUID, user_id: uuid.UUID) -> str:
    role = await _role_in(session, organization_id, user_id)
    if role not in MANAGER_ROLES:
        raise NotAManager()
    return str(role)


# --------------------------------------------------------------------------------------- workflows


async def save_workflow(
    *,
    session: AsyncSession,
    organization_id: uuid.UUID,
    by_user_id: uuid.UUID,
    name: str,
    stages: list[Stage],
    client_account_id: uuid.UUID | None = None,
    auto_publish: bool = False,
) -> ApprovalWorkflow:
    """Create or replace the active workflow of an organization (or one of its client accounts)."""
    await require_manager(session=session, organization_id=organization_id, user_id=by_user_id)
    checked = parse_stages([s.as_json() for s in stages])
    if client_account_id is not None:
        client = await session.get(ClientAccount, client_account_id)
        if client is None or client.organization_id != organization_id:
            raise InvalidWorkflow("That client account isn't part of this organization.")
    workflow = await session.scalar(
        select(ApprovalWorkflow)
        .where(
            ApprovalWorkflow.organization_id == organization_id,
            ApprovalWorkflow.client_account_id.is_(None)
            if client_account_id is None
            else ApprovalWorkflow.client_account_id == client_account_id,
            ApprovalWorkflow.is_active.is_(True),
        )
        .with_for_update()
    )
    if workflow is None:
        workflow = ApprovalWorkflow(
            organization_id=organization_id, client_account_id=client_account_id, is_active=True, name=name, stages=[]
        )
        session.add(workflow)
    workflow.name = (name.strip() or "Approval")[:255]
    workflow.stages = [s.as_json() for s in checked]
    workflow.auto_publish = auto_publish
    await session.flush()
    await audit.record(
        session=session,
        action="approval_workflow_saved",
        user_id=by_user_id,
        organization_id=organization_id,
        resource_type="approval_workflow",
        resource_id=workflow.id,
        metadata={"stages": len(checked), "auto_publish": auto_publish},
    )
    return workflow


async def workflow_for(
    *, session: AsyncSession, organization_id: uuid.UUID | None, client_account_id: uuid.UUID | None
) -> ApprovalWorkflow | None:
    """The client account's active workflow, else the organization's."""
    if client_account_id is not None:
        found = await session.scalar(
            select(ApprovalWorkflow)
            .where(ApprovalWorkflow.client_account_id == client_account_id, ApprovalWorkflow.is_active.is_(True))
            .order_by(ApprovalWorkflow.created_at.desc())
            .limit(1)
        )
        if found is not None:
            return found
    if organization_id is None:
        return None
    return await session.scalar(
        select(ApprovalWorkflow)
        .where(
            ApprovalWorkflow.organization_id == organization_id,
            ApprovalWorkflow.client_account_id.is_(None),
            ApprovalWorkflow.is_active.is_(True),
        )
        .order_by(ApprovalWorkflow.created_at.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class DraftScope:
    organization_id: uuid.UUID | None
    client_account_id: uuid.UUID | None


async def draft_scope(*, session: AsyncSession, draft: GeneratedContent) -> DraftScope:
    """The organization and client account a draft belongs to (from its asset, else its job)."""
    asset = await session.get(ContentAsset, draft.content_asset_id) if draft.content_asset_id else None
    org = asset.organization_id if asset else None
    if org is None and draft.repurposing_job_id:
        org = await session.scalar(
            select(RepurposingJob.organization_id).where(RepurposingJob.id == draft.repurposing_job_id)
        )
    return DraftScope(org, asset.client_account_id if asset else None)


async def _workflow_org(session: AsyncSession, workflow: ApprovalWorkflow) -> uuid.UUID | None:
    if workflow.organization_id is not None:
        return workflow.organization_id
    if workflow.client_account_id is not None:
        return await session.scalar(
            select(ClientAccount.organization_id).where(ClientAccount.id == workflow.client_account_id)
        )
    return None


# --------------------------------------------------------------------------------------- approvals


async def _draft_for_update(session: AsyncSession, draft_id: uuid.UUID) -> GeneratedContent:
    # The draft row lock serialises submissions and solo approvals of one draft across processes.
    draft = await session.scalar(select(GeneratedContent).where(GeneratedContent.id == draft_id).with_for_update())
    if draft is None:
        raise DraftNotFound()
    return draft


async def _open_request(session: AsyncSession, draft_id: uuid.UUID) -> ApprovalRequest | None:
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
    draft = await _draft_for_update(session, draft_id)
    existing = await _open_request(session, draft.id)
    if existing is not None:
        return existing
    scope = await draft_scope(session=session, draft=draft)
    workflow = await workflow_for(
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


async def stages_of(*, session: AsyncSession, request: ApprovalRequest) -> list[Stage]:
    """The request's stages; a request without a workflow has one stage: its creator."""
    if request.workflow_id is None:
        approvers = (request.requested_by,) if request.requested_by else ()
        return [Stage(order=1, name="Creator", approvers=approvers)]
    workflow = await session.get(ApprovalWorkflow, request.workflow_id)
    if workflow is None:
        raise ApprovalNotFound()
    return parse_stages(workflow.stages)


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
    return await _role_in(session, await _workflow_org(session, workflow), user_id) == stage.role


@dataclass
class Decision:
    """The result of an approver's action. `applied` is False when the action had already happened
    (a retry, a replay or the second of two simultaneous clicks): nothing changed."""

    request: ApprovalRequest
    applied: bool
    stage: Stage
    stage_count: int
    final: bool = False
    publish: bool = False
    stage_no: int = 1  # the stage the decision was taken at

    @property
    def next_stage(self) -> int | None:
        status, current = self.request.status, self.request.current_stage or 1
        return current if status == "pending" else None


async def _guarded(
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
) -> tuple[ApprovalRequest, list[Stage]]:
    request = await get_request(session=session, request_id=request_id)
    stages = await stages_of(session=session, request=request)
    if not await can_act(session=session, request=request, user_id=by_user_id, stage_no=expected_stage):
        raise NotAnApprover()
    return request, stages


async def _audit_org(session: AsyncSession, request: ApprovalRequest) -> uuid.UUID | None:
    if request.workflow_id is None:
        return None
    workflow = await session.get(ApprovalWorkflow, request.workflow_id)
    return await _workflow_org(session, workflow) if workflow else None


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
    applied = await _guarded(session, request_id, expected_stage, expected_revision, values)
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
        # Only when something publishes: a workflow saved with auto-publish before publishing exists says nothing.
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
            # Publishing picks drafts up from here (or from the task the adapter enqueues when it exists).
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
    """Send the draft back with feedback (status `changes_requested`); `apply_revision` rewrites it."""
    if not feedback or not feedback.strip():
        raise NeedsFeedback()
    request, stages = await _prepare(session, request_id, by_user_id, expected_stage)
    applied = await _guarded(
        session,
        request_id,
        expected_stage,
        expected_revision,
        {
            "status": "changes_requested",
            "feedback": feedback.strip(),
            "reviewed_by": by_user_id,
            "reviewed_at": utcnow(),
            "revision_count": ApprovalRequest.revision_count + 1,
        },
    )
    request = await get_request(session=session, request_id=request_id)
    if applied:
        await audit.record(
            session=session,
            action="approval_changes_requested",
            user_id=by_user_id,
            organization_id=await _audit_org(session, request),
            resource_type="approval_request",
            resource_id=request.id,
            metadata={"stage": expected_stage, "feedback": feedback.strip()[:500]},
        )
    return Decision(request, applied, stages[expected_stage - 1], len(stages), stage_no=expected_stage)


async def apply_revision(
    *,
    session: AsyncSession,
    writer: Any,
    index: Any,
    request_id: uuid.UUID,
    by_user_id: uuid.UUID | None,
) -> GeneratedContent | None:
    """Rewrite a draft whose changes were requested (a `revisions` row assigned to the creator) and put
    the request back to `pending` at the same stage. Returns None when there is nothing to revise
    (already revised by an earlier delivery)."""
    from core.repurposing import service as repurposing_service  # the writer stack is heavy to import

    request = await session.scalar(select(ApprovalRequest).where(ApprovalRequest.id == request_id).with_for_update())
    if request is None:
        raise ApprovalNotFound()
    if request.status != "changes_requested" or request.generated_content_id is None:
        return None
    before = await session.get_one(GeneratedContent, request.generated_content_id)
    before_text, before_title = before.content_text or "", before.title
    draft = await repurposing_service.rewrite_draft(
        session=session,
        writer=writer,
        index=index,
        draft_id=request.generated_content_id,
        requested_by=by_user_id,
        feedback=request.feedback or "",
        approval_request_id=request.id,
    )
    # Checked against its feedback before anyone sees it; what can be fixed without inventing content is.
    text, checks = revision_check.enforce(before_text, draft.content_text or "", request.feedback)
    if text != (draft.content_text or ""):
        draft.content_text, draft.word_count = text, nlp.word_count(text)
    if draft.title != before_title:
        checks.append(revision_check.CheckResult("title", True, f"now “{draft.title}”", asked=False))
    draft.metadata_ = {**(draft.metadata_ or {}), "revision_check": [c.as_json() for c in checks]}
    # A new version goes through every stage again, from the first: the editor sees what the client asked for.
    request.status, request.current_stage = "pending", 1
    await session.flush()
    return draft


async def state_text(
    *, session: AsyncSession, request: ApprovalRequest, expected_stage: int, expected_revision: int | None
) -> str:
    """Why an action on (stage, revision) did nothing, in terms of where the request really is."""
    stages = await stages_of(session=session, request=request)

    def name(n: int) -> str:
        return stages[n - 1].name if 1 <= n <= len(stages) else f"stage {n}"

    reviewer = await display_name(session=session, user_id=request.reviewed_by) or "someone"
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
    request, stages = await _prepare(session, request_id, by_user_id, expected_stage)
    applied = await _guarded(
        session,
        request_id,
        expected_stage,
        expected_revision,
        {
            "status": "rejected",
            "feedback": reason.strip(),
            "reviewed_by": by_user_id,
            "reviewed_at": utcnow(),
        },
    )
    request = await get_request(session=session, request_id=request_id)
    if applied:
        await audit.record(
            session=session,
            action="approval_rejected",
            user_id=by_user_id,
            organization_id=await _audit_org(session, request),
            resource_type="approval_request",
            resource_id=request.id,
            metadata={"stage": expected_stage, "reason": reason.strip()[:500]},
        )
    return Decision(request, applied, stages[expected_stage - 1], len(stages), stage_no=expected_stage)


async def approve_draft_solo(*, session: AsyncSession, draft_id: uuid.UUID, user_id: uuid.UUID) -> ApprovalRequest:
    """The creator approves their own draft (Telegram's Approve button). Idempotent: an approved
    request is returned as is. Drafts under a team workflow must go through it."""
    draft = await _draft_for_update(session, draft_id)
    if draft.user_id != user_id:
        raise NotYourDraft()
    approved = await session.scalar(
        select(ApprovalRequest)
        .where(ApprovalRequest.generated_content_id == draft.id, ApprovalRequest.status == "approved")
        .order_by(ApprovalRequest.created_at.desc())
        .limit(1)
    )
    if approved is not None:
        return approved
    request = await _open_request(session, draft.id)
    if request is not None and request.workflow_id is not None:
        raise AwaitingTeamApproval()
    scope = await draft_scope(session=session, draft=draft)
    if (
        request is None
        and await workflow_for(
            session=session, organization_id=scope.organization_id, client_account_id=scope.client_account_id
        )
        is not None
    ):
        raise AwaitingTeamApproval()
    now = utcnow()
    if request is None:
        request = ApprovalRequest(
            generated_content_id=draft.id, workflow_id=None, current_stage=1, requested_by=user_id, revision_count=0
        )
        session.add(request)
    request.status, request.reviewed_by, request.reviewed_at = "approved", user_id, now
    await session.flush()
    await audit.record(
        session=session,
        action="draft_approved",
        user_id=user_id,
        organization_id=scope.organization_id,
        resource_type="generated_content",
        resource_id=draft.id,
        metadata={"approval_request_id": str(request.id), "solo": True},
    )
    return request


@dataclass
class PendingApproval:
    request: ApprovalRequest
    draft: GeneratedContent
    stage: Stage
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


# ----------------------------------------------------------------------------------- notifications


async def creator_chats(*, session: AsyncSession, user_id: uuid.UUID | None) -> list[ChatRef]:
    """Telegram chats where the creator hears about their drafts."""
    if user_id is None:
        return []
    rows = await session.scalars(
        select(ChatIdentity).where(ChatIdentity.user_id == user_id, ChatIdentity.provider == "telegram")
    )
    return [ChatRef("telegram", r.chat_id or r.external_user_id) for r in rows]


async def tell_creator(*, session: AsyncSession, notifier: Notifier, request: ApprovalRequest, text: str) -> int:
    """Send `text` to the creator's Telegram chats; returns how many were told."""
    chats = await creator_chats(session=session, user_id=request.requested_by)
    for chat in chats:
        await notifier.send(chat, OutgoingMessage(text=text))
    return len(chats)


@dataclass(frozen=True)
class Recipient:
    """One chat where a person hears from Recast: a Telegram chat, or a Slack user (DM) in a workspace."""

    user_id: uuid.UUID
    provider: str  # telegram | slack
    chat_id: str
    team_id: str | None = None


@dataclass(frozen=True)
class Notice:
    recipient: Recipient
    text: str


async def recipients_of(*, session: AsyncSession, user_ids: list[uuid.UUID]) -> list[Recipient]:
    """Every chat (Telegram and Slack) of these people, in the order given."""
    if not user_ids:
        return []
    rows = (
        await session.scalars(
            select(ChatIdentity)
            .where(ChatIdentity.user_id.in_(user_ids), ChatIdentity.provider.in_(("telegram", "slack")))
            .order_by(ChatIdentity.created_at, ChatIdentity.id)
        )
    ).all()
    order = {u: i for i, u in enumerate(user_ids)}
    found = [
        Recipient(
            r.user_id,
            r.provider,
            (r.chat_id or r.external_user_id) if r.provider == "telegram" else r.external_user_id,
            r.team_id,
        )
        for r in rows
    ]
    return sorted(found, key=lambda r: order[r.user_id])


async def stage_people(*, session: AsyncSession, request: ApprovalRequest, stage_no: int) -> set[uuid.UUID]:
    """Everyone who approves stage `stage_no` of this request: its named approvers and the members with its role."""
    stages = await stages_of(session=session, request=request)
    if not 1 <= stage_no <= len(stages):
        return set()
    stage = stages[stage_no - 1]
    people = set(stage.approvers)
    if stage.role is not None and request.workflow_id is not None:
        workflow = await session.get_one(ApprovalWorkflow, request.workflow_id)
        org = await _workflow_org(session, workflow)
        rows = await session.scalars(
            select(TeamMember.user_id).where(
                TeamMember.organization_id == org,
                TeamMember.role == stage.role,
                or_(TeamMember.status.is_(None), TeamMember.status == "active"),
            )
        )
        people |= {u for u in rows if u is not None}
    return people


async def earlier_reviewers(
    *, session: AsyncSession, request: ApprovalRequest, below_stage: int, revision: int
) -> list[uuid.UUID]:
    """Who approved the stages before `below_stage` of this version (`revision`) of the request."""
    rows = await session.scalars(
        select(AuditLog.user_id)
        .where(
            AuditLog.resource_id == request.id,
            AuditLog.action == "approval_stage_approved",
            AuditLog.metadata_["stage"].as_integer() < below_stage,
            AuditLog.metadata_["revision"].as_integer() == revision,
        )
        .order_by(AuditLog.created_at)
    )
    return list(dict.fromkeys(u for u in rows if u is not None))


@dataclass(frozen=True)
class DecisionNotice:
    """Someone to tell about an applied decision: the submitter (`earlier_stage` False), or a reviewer who
    approved an earlier stage of the version a later stage sent back. The adapter that sends it words it."""

    recipient: Recipient
    decision: Decision
    reviewer: str | None  # the display name of who decided
    earlier_stage: bool = False


TOLD_STATUSES = ("approved", "changes_requested", "rejected")


async def decision_notices(*, session: AsyncSession, decision: Decision, by_user_id: uuid.UUID) -> list[DecisionNotice]:
    """Whom an applied decision is told: the submitter when their draft is approved, sent back or rejected (in
    every chat they use, Telegram and Slack); and, when a later stage asks for changes, the reviewers who
    approved the earlier stages of that version."""
    request = decision.request
    reviewer = await display_name(session=session, user_id=by_user_id)
    notices: list[DecisionNotice] = []
    if request.status in TOLD_STATUSES and request.requested_by is not None:
        notices += [
            DecisionNotice(r, decision, reviewer)
            for r in await recipients_of(session=session, user_ids=[request.requested_by])
        ]
    if request.status == "changes_requested" and decision.stage_no > 1:
        seen = (request.revision_count or 1) - 1
        earlier = [
            u
            for u in await earlier_reviewers(
                session=session, request=request, below_stage=decision.stage_no, revision=seen
            )
            if u not in (by_user_id, request.requested_by)
        ]
        notices += [
            DecisionNotice(r, decision, reviewer, earlier_stage=True)
            for r in await recipients_of(session=session, user_ids=earlier)
        ]
    return notices


async def display_name(*, session: AsyncSession, user_id: uuid.UUID | None) -> str | None:
    if user_id is None:
        return None
    return await session.scalar(select(User.full_name).where(User.id == user_id))


# ---------------------------------------------------------------------------------------------- QA


async def request_qa(
    *,
    session: AsyncSession,
    draft_id: uuid.UUID,
    requested_by: uuid.UUID,
    qa_type: str = "content_review",
    priority: str = "normal",
    sla_hours: int = 24,
    assigned_to: uuid.UUID | None = None,
    now: datetime | None = None,
    note: str | None = None,
) -> QARequest:
    """A manager sends a draft to human QA with an SLA; an open request of the same type is reused."""
    draft = await _draft_for_update(session, draft_id)
    scope = await draft_scope(session=session, draft=draft)
    if scope.organization_id is None:
        raise NotAManager()
    await require_manager(session=session, organization_id=scope.organization_id, user_id=requested_by)
    if priority not in QA_PRIORITIES:
        priority = "normal"
    sla_hours = max(1, min(int(sla_hours), 24 * 14))
    existing = await session.scalar(
        select(QARequest).where(
            QARequest.generated_content_id == draft.id,
            QARequest.qa_type == qa_type,
            QARequest.status.in_(QA_OPEN_STATUSES),
        )
    )
    if existing is not None:
        return existing
    start = now or utcnow()
    qa = QARequest(
        generated_content_id=draft.id,
        user_id=requested_by,
        qa_type=qa_type[:50],
        priority=priority,
        status="in_review" if assigned_to else "pending",
        assigned_to=assigned_to,
        assigned_at=start if assigned_to else None,
        sla_hours=sla_hours,
        due_at=start + timedelta(hours=sla_hours),
    )
    session.add(qa)
    await session.flush()
    await audit.record(
        session=session,
        action="qa_requested",
        user_id=requested_by,
        organization_id=scope.organization_id,
        resource_type="qa_request",
        resource_id=qa.id,
        metadata={
            "draft_id": str(draft.id),
            "sla_hours": sla_hours,
            "priority": priority,
            "note": (note or "").strip()[:2000] or None,
        },
    )
    return qa


async def complete_qa(
    *,
    session: AsyncSession,
    qa_id: uuid.UUID,
    reviewer_id: uuid.UUID,
    score: float | None,
    feedback: str | None,
    now: datetime | None = None,
    passed: bool | None = None,
) -> QARequest:
    """Record the reviewer's score (0–100) and feedback once; a repeat returns the completed request."""
    qa, _ = await _complete_qa(
        session=session, qa_id=qa_id, reviewer_id=reviewer_id, score=score, feedback=feedback, now=now, passed=passed
    )
    return qa


async def _complete_qa(
    *,
    session: AsyncSession,
    qa_id: uuid.UUID,
    reviewer_id: uuid.UUID,
    score: float | None,
    feedback: str | None,
    now: datetime | None = None,
    passed: bool | None = None,
) -> tuple[QARequest, bool]:
    """Close an open QA request: status `passed`/`failed` with a verdict, else `completed` with a score.
    Returns the request and whether this call closed it."""
    if score is None and passed is None:
        raise InvalidQAScore()
    if score is not None and not 0 <= float(score) <= 100:
        raise InvalidQAScore()
    qa = await session.get(QARequest, qa_id)
    if qa is None:
        raise QANotFound()
    if qa.assigned_to is not None and qa.assigned_to != reviewer_id:
        raise NotAllowed("This QA review is assigned to someone else.")
    status = "completed" if passed is None else ("passed" if passed else "failed")
    stmt = (
        update(QARequest)
        .where(QARequest.id == qa_id, QARequest.status.in_(QA_OPEN_STATUSES))
        .values(
            status=status,
            quality_score=None if score is None else Decimal(str(round(float(score), 2))),
            feedback=(feedback or "").strip() or None,
            completed_at=now or utcnow(),
            assigned_to=reviewer_id,
        )
        .returning(QARequest.id)
        .execution_options(synchronize_session=False)
    )
    applied = (await session.execute(stmt)).first() is not None
    qa = await session.get_one(QARequest, qa_id, populate_existing=True)
    if applied:
        await audit.record(
            session=session,
            action="qa_completed",
            user_id=reviewer_id,
            resource_type="qa_request",
            resource_id=qa.id,
            metadata={
                "score": None if score is None else float(score),
                "passed": passed,
                "draft_id": str(qa.generated_content_id),
            },
        )
    return qa, applied


async def qa_due_for_reminder(
    *, session: AsyncSession, now: datetime, lead: timedelta = timedelta(hours=2)
) -> list[QARequest]:
    """Open QA requests due within `lead` (or overdue) that have not been reminded yet (locked until the caller's
    transaction ends)."""
    reminded = exists().where(AuditLog.action == QA_REMINDER_ACTION, AuditLog.resource_id == QARequest.id)
    rows = await session.scalars(
        select(QARequest)
        .where(
            QARequest.status.in_(QA_OPEN_STATUSES),
            QARequest.due_at.is_not(None),
            QARequest.due_at <= now + lead,
            ~reminded,
        )
        .order_by(QARequest.due_at)
        .with_for_update(skip_locked=True)  # two runs at once: each request is reminded by one of them
    )
    return list(rows)


async def mark_qa_reminded(*, session: AsyncSession, qa: QARequest, now: datetime) -> None:
    await audit.record(
        session=session,
        action=QA_REMINDER_ACTION,
        user_id=qa.user_id,
        resource_type="qa_request",
        resource_id=qa.id,
        metadata={"due_at": qa.due_at.isoformat() if qa.due_at else None, "at": now.isoformat()},
    )
