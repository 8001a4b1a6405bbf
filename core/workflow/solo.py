"""Chat-side helpers for a creator acting on their own drafts."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.common.errors import NotAllowed
from core.repurposing.errors import DraftNotFound
from core.repurposing.models import GeneratedContent
from core.workflow import service as workflow_service
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
    request = await workflow_service.approve_draft_solo(session=session, draft_id=draft_id, user_id=user_id)
    return request, before is None
