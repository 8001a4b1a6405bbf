"""Chat-side helpers for a creator acting on their own drafts."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.common.clock import utcnow
from core.common.errors import NotAllowed
from core.repurposing.errors import DraftNotFound
from core.repurposing.models import GeneratedContent
from core.system import audit
from core.workflow import approvals, workflows
from core.workflow.errors import AwaitingTeamApproval, NotYourDraft
from core.workflow.models import ApprovalRequest


async def owned_draft(*, session: AsyncSession, draft_id: uuid.UUID, user_id: uuid.UUID) -> GeneratedContent:
    draft = await session.get(GeneratedContent, draft_id)
    if draft is None:
        raise DraftNotFound()
    if draft.user_id != user_id:
        raise NotAllowed("That draft belongs to someone else.")
    return draft


async def approve_own_draft(
    *, session: AsyncSession, draft_id: uuid.UUID, user_id: uuid.UUID
) -> tuple[ApprovalRequest, bool]:
    """The Telegram Approve button: `approve_draft_solo`, plus whether this press changed anything
    (so a second press is acknowledged without a second announcement)."""
    before = await session.scalar(
        select(ApprovalRequest.status)
        .where(ApprovalRequest.generated_content_id == draft_id, ApprovalRequest.status == "approved")
        .limit(1)
    )
    request = await approve_draft_solo(session=session, draft_id=draft_id, user_id=user_id)
    return request, before is None


async def approve_draft_solo(*, session: AsyncSession, draft_id: uuid.UUID, user_id: uuid.UUID) -> ApprovalRequest:
    """The creator approves their own draft (Telegram's Approve button). Idempotent: an approved
    request is returned as is. Drafts under a team workflow must go through it."""
    draft = await approvals.draft_for_update(session, draft_id)
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
    request = await approvals.open_request(session, draft.id)
    if request is not None and request.workflow_id is not None:
        raise AwaitingTeamApproval()
    scope = await workflows.draft_scope(session=session, draft=draft)
    if (
        request is None
        and await workflows.workflow_for(
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
