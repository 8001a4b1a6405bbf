"""Slack-side state of the approval workflow: installations, workspace and channel links, the message
that shows each approval request, and the events already processed.

Core owns these tables (the adapter in `bots/slack` only reads and writes them through services) so
the installation store, the engine and the tasks share one schema without importing slack-bolt here.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, created_at_column, uuid_pk


class SlackInstallation(Base):
    """One OAuth v2 installation (bot and, when granted, installer user token). Many per workspace over
    time; the latest wins. `data` keeps slack_sdk's full `Installation.to_dict()` for round-tripping."""

    __tablename__ = "slack_installations"
    __table_args__ = (Index("idx_slack_installations_lookup", "client_id", "enterprise_id", "team_id", "installed_at"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    client_id: Mapped[str | None] = mapped_column(String(64))
    app_id: Mapped[str | None] = mapped_column(String(64))
    enterprise_id: Mapped[str | None] = mapped_column(String(64))
    team_id: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[str | None] = mapped_column(String(64))
    is_enterprise_install: Mapped[bool] = mapped_column(server_default=text("false"))
    bot_token: Mapped[str | None] = mapped_column(Text)
    bot_user_id: Mapped[str | None] = mapped_column(String(64))
    organization_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id", ondelete="SET NULL"))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    installed_at: Mapped[datetime | None] = created_at_column()


class SlackWorkspace(Base):
    """A Slack workspace (team) linked to one Recast organization."""

    __tablename__ = "slack_workspaces"

    team_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    default_channel_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime | None] = created_at_column()


class SlackChannel(Base):
    """The channel where a client account's drafts are reviewed."""

    __tablename__ = "slack_channels"
    __table_args__ = (UniqueConstraint("client_account_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    team_id: Mapped[str] = mapped_column(ForeignKey("slack_workspaces.team_id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(64))
    client_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("client_accounts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime | None] = created_at_column()


class SlackApprovalMessage(Base):
    """Where an approval request is shown, so approvals update it in place and revisions go in its thread."""

    __tablename__ = "slack_approval_messages"

    approval_request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("approval_requests.id", ondelete="CASCADE"), primary_key=True
    )
    team_id: Mapped[str] = mapped_column(String(64))
    channel_id: Mapped[str] = mapped_column(String(64))
    message_ts: Mapped[str] = mapped_column(String(32))
    # The thread reply with the latest version, once there is one: it carries the buttons from then on.
    revision_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime | None] = created_at_column()


class SlackEventReceipt(Base):
    """Events API deliveries already accepted: retries (`x-slack-retry-num`) find their event id here."""

    __tablename__ = "slack_event_receipts"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    team_id: Mapped[str | None] = mapped_column(String(64))
    event_type: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime | None] = created_at_column()


class SlackInvite(Base):
    """A single-use invite into an organization: whoever redeems it first (installing the app with it, or
    `/recast link <code>`) links their workspace and joins with `role`."""

    __tablename__ = "slack_invites"

    id: Mapped[uuid.UUID] = uuid_pk()
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(50))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    used_team_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime | None] = created_at_column()
