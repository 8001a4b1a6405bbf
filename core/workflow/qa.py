"""Human QA around approvals: a reviewer sends a draft under review to QA (type, priority, note; the SLA
follows the priority), QA reviewers see what is waiting and pass it or fail it with a note, and a failed QA
sends the draft back for changes the way "Request changes" does.

Who does what, following the workflow's role model: owners, admins and managers of the draft's
organization send drafts to QA (as `request_qa` always required) and they are the QA reviewers, except
that nobody reviews a QA request they asked for themselves.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import TeamMember
from core.common.clock import utcnow
from core.common.errors import NotAllowed, RecastError
from core.content.models import ContentAsset
from core.repurposing.models import GeneratedContent, RepurposingJob
from core.system import audit
from core.system.models import AuditLog
from core.workflow import approvals, members, qa_requests, recipients, workflows
from core.workflow.errors import NotAManager, QANotFound
from core.workflow.models import ApprovalRequest, QARequest

QA_TYPES = {"content_review": "Content review", "brand_safety": "Brand safety", "fact_check": "Fact check"}
# Hours to the due time, by priority (the reminder comes up to 2 hours before it).
QA_SLA_HOURS = {"low": 72, "normal": 24, "high": 8, "urgent": 4}
QA_REVIEWER_ROLES = members.MANAGER_ROLES


class NotAQAReviewer(NotAllowed):
    user_message = "Only the organization's owners, admins and managers do QA reviews."


class OwnQARequest(NotAllowed):
    user_message = "You asked for this QA review, so another owner, admin or manager does it."


class QANeedsNote(RecastError):
    user_message = "Say what failed, so the next version can fix it."


class NotUnderReview(RecastError):
    user_message = "This draft isn't waiting for review any more, so it wasn't sent to QA."


def type_label(qa_type: str | None) -> str:
    return QA_TYPES.get(qa_type or "", (qa_type or "QA review").replace("_", " ").capitalize())


def due_text(due_at: datetime | None) -> str:
    return due_at.strftime("%d %b %H:%M UTC") if due_at else "without a due time"


async def _draft_org(session: AsyncSession, draft: GeneratedContent) -> uuid.UUID | None:
    return (await workflows.draft_scope(session=session, draft=draft)).organization_id


async def may_review(*, session: AsyncSession, organization_id: uuid.UUID | None, user_id: uuid.UUID) -> bool:
    """Whether `user_id` sends drafts of this organization to QA and reviews its QA requests."""
    if organization_id is None:
        return False
    return (
        await members.member_role(session=session, organization_id=organization_id, user_id=user_id)
        in QA_REVIEWER_ROLES
    )


async def may_send(*, session: AsyncSession, request: ApprovalRequest, user_id: uuid.UUID) -> bool:
    """Whether "Send to QA" does something for this person on this approval request."""
    if request.status != "pending" or request.generated_content_id is None:
        return False
    draft = await session.get_one(GeneratedContent, request.generated_content_id)
    return await may_review(session=session, organization_id=await _draft_org(session, draft), user_id=user_id)


async def reviewers(*, session: AsyncSession, organization_id: uuid.UUID | None) -> set[uuid.UUID]:
    """Everyone whose QA queue shows this organization's QA requests."""
    if organization_id is None:
        return set()
    rows = await session.scalars(
        select(TeamMember.user_id).where(
            TeamMember.organization_id == organization_id,
            TeamMember.role.in_(QA_REVIEWER_ROLES),
            or_(TeamMember.status.is_(None), TeamMember.status == "active"),
        )
    )
    return {u for u in rows if u is not None}


async def _open_qa(session: AsyncSession, draft_id: uuid.UUID, qa_type: str) -> QARequest | None:
    return await session.scalar(
        select(QARequest).where(
            QARequest.generated_content_id == draft_id,
            QARequest.qa_type == qa_type,
            QARequest.status.in_(qa_requests.QA_OPEN_STATUSES),
        )
    )


@dataclass(frozen=True)
class SentToQA:
    qa: QARequest
    created: bool  # False: the same kind of QA was already waiting for this draft
    draft: GeneratedContent
    organization_id: uuid.UUID | None


async def send_to_qa(
    *,
    session: AsyncSession,
    request_id: uuid.UUID,
    by_user_id: uuid.UUID,
    qa_type: str,
    priority: str,
    note: str | None,
    now: datetime | None = None,
) -> SentToQA:
    """A reviewer sends the draft of a pending approval request to QA, due by its priority's SLA."""
    request = await approvals.get_request(session=session, request_id=request_id)
    if request.generated_content_id is None:
        raise NotUnderReview()
    draft = await session.get_one(GeneratedContent, request.generated_content_id)
    org = await _draft_org(session, draft)
    if not await may_review(session=session, organization_id=org, user_id=by_user_id):
        raise NotAManager()
    if request.status != "pending":
        raise NotUnderReview()
    qa_type = qa_type if qa_type in QA_TYPES else "content_review"
    priority = priority if priority in QA_SLA_HOURS else "normal"
    existing = await _open_qa(session, draft.id, qa_type)
    if existing is not None:
        return SentToQA(existing, False, draft, org)
    qa = await qa_requests.request_qa(
        session=session,
        draft_id=draft.id,
        requested_by=by_user_id,
        qa_type=qa_type,
        priority=priority,
        sla_hours=QA_SLA_HOURS[priority],
        now=now,
        note=note,
    )
    return SentToQA(qa, True, draft, org)


@dataclass(frozen=True)
class QAItem:
    qa: QARequest
    draft: GeneratedContent
    note: str | None
    requested_by: str | None


async def _notes(session: AsyncSession, qa_ids: list[uuid.UUID]) -> dict[uuid.UUID, str | None]:
    """The requester's note, kept with the request's `qa_requested` record."""
    if not qa_ids:
        return {}
    rows = await session.execute(
        select(AuditLog.resource_id, AuditLog.metadata_).where(
            AuditLog.action == "qa_requested", AuditLog.resource_id.in_(qa_ids)
        )
    )
    return {rid: (meta or {}).get("note") for rid, meta in rows if rid is not None}


async def queue_for(*, session: AsyncSession, user_id: uuid.UUID, limit: int = 20) -> list[QAItem] | None:
    """Open QA requests this person reviews, soonest due first; None when they aren't a QA reviewer at all."""
    orgs = list(
        await session.scalars(
            select(TeamMember.organization_id).where(
                TeamMember.user_id == user_id,
                TeamMember.role.in_(QA_REVIEWER_ROLES),
                or_(TeamMember.status.is_(None), TeamMember.status == "active"),
            )
        )
    )
    if not orgs:
        return None
    org = func.coalesce(ContentAsset.organization_id, RepurposingJob.organization_id)
    rows = (
        await session.execute(
            select(QARequest, GeneratedContent)
            .join(GeneratedContent, GeneratedContent.id == QARequest.generated_content_id)
            .outerjoin(ContentAsset, ContentAsset.id == GeneratedContent.content_asset_id)
            .outerjoin(RepurposingJob, RepurposingJob.id == GeneratedContent.repurposing_job_id)
            .where(
                QARequest.status.in_(qa_requests.QA_OPEN_STATUSES),
                org.in_(orgs),
                or_(QARequest.user_id.is_(None), QARequest.user_id != user_id),
                or_(QARequest.assigned_to.is_(None), QARequest.assigned_to == user_id),
            )
            .order_by(QARequest.due_at.asc().nulls_last(), QARequest.created_at)
            .limit(limit)
        )
    ).all()
    notes = await _notes(session, [qa.id for qa, _ in rows])
    return [
        QAItem(qa, draft, notes.get(qa.id), await members.display_name(session=session, user_id=qa.user_id))
        for qa, draft in rows
    ]


@dataclass
class QAOutcome:
    qa: QARequest
    applied: bool  # False: already closed (by whoever was first)
    passed: bool
    draft: GeneratedContent
    organization_id: uuid.UUID | None
    submitter: uuid.UUID | None
    sent_back: approvals.Decision | None = None  # the approval request sent back for changes by a failed QA
    review_status: str | None = None  # the approval request's status when it wasn't sent back


async def _submitter(session: AsyncSession, draft: GeneratedContent) -> tuple[ApprovalRequest | None, uuid.UUID | None]:
    request = await session.scalar(
        select(ApprovalRequest)
        .where(ApprovalRequest.generated_content_id == draft.id)
        .order_by(ApprovalRequest.created_at.desc())
        .limit(1)
    )
    return request, (request.requested_by if request and request.requested_by else draft.user_id)


async def finish_qa(
    *,
    session: AsyncSession,
    qa_id: uuid.UUID,
    reviewer_id: uuid.UUID,
    passed: bool,
    note: str | None,
    now: datetime | None = None,
) -> QAOutcome:
    """Pass or fail a QA request (once). A failure sends the draft's pending approval request back for changes
    with the note as the feedback, so a new version is written and reviewed from stage 1."""
    qa = await session.get(QARequest, qa_id)
    if qa is None or qa.generated_content_id is None:
        raise QANotFound()
    draft = await session.get_one(GeneratedContent, qa.generated_content_id)
    org = await _draft_org(session, draft)
    if not await may_review(session=session, organization_id=org, user_id=reviewer_id):
        raise NotAQAReviewer()
    if qa.user_id == reviewer_id:
        raise OwnQARequest()
    note = (note or "").strip() or None
    if not passed and note is None:
        raise QANeedsNote()
    qa, applied = await qa_requests.close_qa(
        session=session, qa_id=qa_id, reviewer_id=reviewer_id, score=None, feedback=note, now=now, passed=passed
    )
    request, submitter = await _submitter(session, draft)
    outcome = QAOutcome(
        qa, applied, qa.status == "passed", draft, org, submitter, review_status=request.status if request else None
    )
    if not applied or passed or request is None or request.status != "pending" or note is None:
        return outcome
    stage_no = request.current_stage or 1
    stages = await approvals.stages_of(session=session, request=request)
    moved = await approvals.guarded_update(
        session,
        request.id,
        stage_no,
        request.revision_count or 0,
        {
            "status": "changes_requested",
            "feedback": note,
            "reviewed_by": reviewer_id,
            "reviewed_at": now or utcnow(),
            "revision_count": ApprovalRequest.revision_count + 1,
        },
    )
    request = await session.get_one(ApprovalRequest, request.id, populate_existing=True)
    outcome.review_status = request.status
    if moved:
        await audit.record(
            session=session,
            action="approval_changes_requested",
            user_id=reviewer_id,
            organization_id=org,
            resource_type="approval_request",
            resource_id=request.id,
            metadata={"stage": stage_no, "feedback": note[:500], "qa_request_id": str(qa.id)},
        )
        outcome.sent_back = approvals.Decision(request, True, stages[stage_no - 1], len(stages), stage_no=stage_no)
    return outcome


def outcome_text(outcome: QAOutcome, draft_label: str, reviewer: str | None) -> str:
    """What the requester and the submitter are told."""
    what = f"{type_label(outcome.qa.qa_type)} of {draft_label}"
    by = f" by {reviewer}" if reviewer else ""
    if outcome.passed:
        return f"✅ QA passed: {what}{by}." + (f" Note: {outcome.qa.feedback}" if outcome.qa.feedback else "")
    text = f"❌ QA failed: {what}{by}: {outcome.qa.feedback}."
    if outcome.sent_back is not None:
        return text + " It goes back for changes; a new version is on its way."
    if outcome.review_status in ("approved", "rejected"):
        return text + f" The draft was already {outcome.review_status}, so it wasn't sent back."
    if outcome.review_status == "changes_requested":
        return text + " A new version was already being written."
    return text


async def outcome_notices(
    *, session: AsyncSession, outcome: QAOutcome, draft_label: str, by_user_id: uuid.UUID
) -> list[recipients.Notice]:
    """The QA's requester and the draft's submitter hear the outcome, in every chat they use."""
    text = outcome_text(outcome, draft_label, await members.display_name(session=session, user_id=by_user_id))
    people = list(dict.fromkeys(u for u in (outcome.qa.user_id, outcome.submitter) if u is not None))
    return [recipients.Notice(r, text) for r in await recipients.recipients_of(session=session, user_ids=people)]


async def reminder_notices(*, session: AsyncSession, qa: QARequest, draft_label: str) -> list[recipients.Notice]:
    """The reminder to whoever asked for a QA review that is due soon and not done."""
    text = (
        f"⏰ QA review due {due_text(qa.due_at)}: {type_label(qa.qa_type)} of {draft_label} "
        f"({qa.priority} priority) isn't done yet."
    )
    people = [qa.user_id] if qa.user_id else []
    return [recipients.Notice(r, text) for r in await recipients.recipients_of(session=session, user_ids=people)]


async def get(*, session: AsyncSession, qa_id: uuid.UUID) -> QARequest:
    qa = await session.get(QARequest, qa_id)
    if qa is None:
        raise QANotFound()
    return qa


def closed_text(qa: QARequest, reviewer: str | None) -> str:
    """Why a Pass/Fail click did nothing."""
    verdict = {"passed": "passed", "failed": "failed"}.get(qa.status or "", "completed")
    return f"Nothing changed: this QA review was already {verdict} by {reviewer or 'someone'}."


@dataclass(frozen=True)
class Home:
    """What a person's App Home shows: approvals waiting for them (with the ids of those they may send to QA)
    and, for QA reviewers, their QA queue (None for everyone else)."""

    pending: list[approvals.PendingApproval]
    qa: list[QAItem] | None
    qa_senders: frozenset[uuid.UUID]


async def home_for(*, session: AsyncSession, user_id: uuid.UUID | None) -> Home:
    if user_id is None:
        return Home([], None, frozenset())
    pending = await approvals.pending_for_user(session=session, user_id=user_id)
    senders = frozenset(
        [p.request.id for p in pending if await may_send(session=session, request=p.request, user_id=user_id)]
    )
    return Home(pending, await queue_for(session=session, user_id=user_id), senders)
