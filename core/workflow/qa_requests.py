"""Human QA requests: opened with an SLA by a manager, closed once with a score or a verdict, reminded once
before they are due."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.common.clock import utcnow
from core.common.errors import NotAllowed
from core.system import audit
from core.system.models import AuditLog
from core.workflow import approvals, members, workflows
from core.workflow.errors import (
    InvalidQAScore,
    NotAManager,
    QANotFound,
)
from core.workflow.models import QARequest

QA_OPEN_STATUSES = ("pending", "in_review")


QA_PRIORITIES = ("low", "normal", "high", "urgent")


QA_REMINDER_ACTION = "qa_reminder_sent"


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
    draft = await approvals.draft_for_update(session, draft_id)
    scope = await workflows.draft_scope(session=session, draft=draft)
    if scope.organization_id is None:
        raise NotAManager()
    await members.require_manager(session=session, organization_id=scope.organization_id, user_id=requested_by)
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
    qa, _ = await close_qa(
        session=session, qa_id=qa_id, reviewer_id=reviewer_id, score=score, feedback=feedback, now=now, passed=passed
    )
    return qa


async def close_qa(
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
