"""Approval workflows: ordered stages (named approvers or a role), saved per organization or client account,
and the workflow that covers a draft."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import ClientAccount
from core.content.models import ContentAsset
from core.repurposing.models import GeneratedContent, RepurposingJob
from core.system import audit
from core.workflow import members
from core.workflow.errors import (
    InvalidWorkflow,
)
from core.workflow.models import ApprovalWorkflow


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
        if role is not None and role not in members.ROLES:
            raise InvalidWorkflow(f"Unknown role '{role}'. Use one of: {', '.join(members.ROLES)}.")
        if not approvers and role is None:
            raise InvalidWorkflow()
        stages.append(
            Stage(order=int(item.get("order", i)), name=str(item["name"]).strip()[:100], approvers=approvers, role=role)
        )
    stages.sort(key=lambda s: s.order)
    return stages


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
    await members.require_manager(session=session, organization_id=organization_id, user_id=by_user_id)
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


async def workflow_org(session: AsyncSession, workflow: ApprovalWorkflow) -> uuid.UUID | None:
    if workflow.organization_id is not None:
        return workflow.organization_id
    if workflow.client_account_id is not None:
        return await session.scalar(
            select(ClientAccount.organization_id).where(ClientAccount.id == workflow.client_account_id)
        )
    return None
