"""System: settings, audit log, in-app notifications."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, event, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, object_session

from core.common.redaction import scrub
from core.db.base import Base, created_at_column, uuid_pk
from core.db.session import acting_organization
from core.system import audit_source


class SystemSetting(Base):
    __tablename__ = "system_settings"

    id: Mapped[uuid.UUID] = uuid_pk()
    key: Mapped[str] = mapped_column(String(255), unique=True)
    value: Mapped[Any] = mapped_column(JSONB, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    is_public: Mapped[bool | None] = mapped_column(server_default=text("false"))
    updated_at: Mapped[datetime | None] = mapped_column(server_default=func.now())


class AuditLog(Base):
    __tablename__ = "audit_logs"
    __table_args__ = (
        Index("idx_audit_user", "user_id"),
        Index("idx_audit_action", "action"),
        Index("idx_audit_created", "created_at"),
        CheckConstraint(f"channel IN {audit_source.CHANNELS!r}", name="ck_audit_logs_channel"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    organization_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id"))
    action: Mapped[str] = mapped_column(String(100))
    resource_type: Mapped[str | None] = mapped_column(String(50))
    resource_id: Mapped[uuid.UUID | None]
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONB)
    created_at: Mapped[datetime | None] = created_at_column()
    channel: Mapped[str | None] = mapped_column(String(20))  # audit_source.CHANNELS


@event.listens_for(AuditLog, "init")
def _from_source(target: AuditLog, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Every audit row, however it is made: the door it came through (`audit_source.current()`) and
    metadata without secrets."""
    source = audit_source.current()
    if source is not None:
        kwargs.setdefault("channel", source.channel)
        kwargs.setdefault("ip_address", source.ip_address[:45] if source.ip_address else None)
        kwargs.setdefault("user_agent", source.user_agent)
        if source.actor and not (kwargs.get("metadata_") or {}).get("actor"):
            kwargs["metadata_"] = {**(kwargs.get("metadata_") or {}), "actor": source.actor}
    if kwargs.get("metadata_"):
        kwargs["metadata_"] = scrub(kwargs["metadata_"])


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("idx_notif_user", "user_id"),
        Index("idx_notif_unread", "user_id", "is_read", postgresql_where=text("is_read = false")),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(255))
    message: Mapped[str | None] = mapped_column(Text)
    link_url: Mapped[str | None] = mapped_column(Text)
    link_text: Mapped[str | None] = mapped_column(String(100))
    is_read: Mapped[bool | None] = mapped_column(server_default=text("false"))
    read_at: Mapped[datetime | None]
    created_at: Mapped[datetime | None] = created_at_column()


@event.listens_for(AuditLog, "before_insert")
def _belongs_to_the_acting_organization(mapper: Any, connection: Any, entry: AuditLog) -> None:
    # What happened while acting for an organization is that organization's history (and row-level
    # security accepts the row only there); rows that name their organization keep it.
    session = object_session(entry)
    if entry.organization_id is None and session is not None:
        entry.organization_id = acting_organization(session.info)
