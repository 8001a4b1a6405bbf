"""Who hears about a draft's review, and in which chats: the creator, a stage's people, earlier reviewers.

Core says whom and what happened; the adapter that sends a notice words it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import ChatIdentity, TeamMember
from core.notify.ports import ChatRef, Notifier, OutgoingMessage
from core.system.models import AuditLog
from core.workflow import approvals, members, workflows
from core.workflow.models import ApprovalRequest, ApprovalWorkflow


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
    stages = await approvals.stages_of(session=session, request=request)
    if not 1 <= stage_no <= len(stages):
        return set()
    stage = stages[stage_no - 1]
    people = set(stage.approvers)
    if stage.role is not None and request.workflow_id is not None:
        workflow = await session.get_one(ApprovalWorkflow, request.workflow_id)
        org = await workflows.workflow_org(session, workflow)
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
    decision: approvals.Decision
    reviewer: str | None  # the display name of who decided
    earlier_stage: bool = False


TOLD_STATUSES = ("approved", "changes_requested", "rejected")


async def decision_notices(
    *, session: AsyncSession, decision: approvals.Decision, by_user_id: uuid.UUID
) -> list[DecisionNotice]:
    """Whom an applied decision is told: the submitter when their draft is approved, sent back or rejected (in
    every chat they use, Telegram and Slack); and, when a later stage asks for changes, the reviewers who
    approved the earlier stages of that version."""
    request = decision.request
    reviewer = await members.display_name(session=session, user_id=by_user_id)
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
