"""Workflow: approval workflows and requests, revisions, human QA."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, TimestampMixin, created_at_column, uuid_pk


class ApprovalWorkflow(TimestampMixin, Base):
    __tablename__ = "approval_workflows"

    id: Mapped[uuid.UUID] = uuid_pk()
    organization_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    client_account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("client_accounts.id"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    stages: Mapped[Any] = mapped_column(JSONB, nullable=False)
    auto_publish: Mapped[bool | None] = mapped_column(server_default=text("false"))
    is_active: Mapped[bool | None] = mapped_column(server_default=text("true"))


class ApprovalRequest(TimestampMixin, Base):
    __tablename__ = "approval_requests"
    __table_args__ = (
        Index("idx_approvals_content", "generated_content_id"),
        Index("idx_approvals_status", "status"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    generated_content_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("generated_content.id", ondelete="CASCADE")
    )
    workflow_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("approval_workflows.id"))
    current_stage: Mapped[int | None] = mapped_column(server_default=text("1"))
    status: Mapped[str | None] = mapped_column(String(50), server_default=text("'pending'"))
    requested_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime | None] = mapped_column(server_default=func.now())
    reviewed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    feedback: Mapped[str | None] = mapped_column(Text)
    revision_count: Mapped[int | None] = mapped_column(server_default=text("0"))


class Revision(Base):
    __tablename__ = "revisions"

    id: Mapped[uuid.UUID] = uuid_pk()
    generated_content_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("generated_content.id", ondelete="CASCADE")
    )
    approval_request_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("approval_requests.id"))
    revision_number: Mapped[int]
    requested_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    assigned_to: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    feedback: Mapped[str] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(String(50), server_default=text("'pending'"))
    completed_at: Mapped[datetime | None]
    created_at: Mapped[datetime | None] = created_at_column()


class QARequest(TimestampMixin, Base):
    __tablename__ = "qa_requests"
    __table_args__ = (
        Index("idx_qa_content", "generated_content_id"),
        Index("idx_qa_status", "status"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    generated_content_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("generated_content.id", ondelete="CASCADE")
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    qa_type: Mapped[str | None] = mapped_column(String(50))
    priority: Mapped[str | None] = mapped_column(String(20), server_default=text("'normal'"))
    status: Mapped[str | None] = mapped_column(String(50), server_default=text("'pending'"))
    # The seed keeps this a plain UUID: QA reviewers may be staff outside `users`.
    assigned_to: Mapped[uuid.UUID | None]
    assigned_at: Mapped[datetime | None]
    sla_hours: Mapped[int | None]
    due_at: Mapped[datetime | None]
    feedback: Mapped[str | None] = mapped_column(Text)
    quality_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    completed_at: Mapped[datetime | None]
