"""A draft sent back for changes is rewritten against its feedback and returns to review from stage 1."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.ai import nlp
from core.repurposing import rewriting
from core.repurposing.models import GeneratedContent
from core.workflow import revision_check
from core.workflow.errors import (
    ApprovalNotFound,
)
from core.workflow.models import ApprovalRequest


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
    request = await session.scalar(select(ApprovalRequest).where(ApprovalRequest.id == request_id).with_for_update())
    if request is None:
        raise ApprovalNotFound()
    if request.status != "changes_requested" or request.generated_content_id is None:
        return None
    before = await session.get_one(GeneratedContent, request.generated_content_id)
    before_text, before_title = before.content_text or "", before.title
    draft = await rewriting.rewrite_draft(
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
