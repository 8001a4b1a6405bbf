"""Accounts: users, their tokens and sessions, organizations, teams, clients, chat identities."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, SoftDeleteMixin, TimestampMixin, created_at_column, uuid_pk


class User(TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        Index("idx_users_email", "email"),
        Index("idx_users_status", "status"),
        Index("idx_active_users", "id", postgresql_where=text("deleted_at IS NULL")),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    email: Mapped[str] = mapped_column(String(255), unique=True)
    # NOT NULL even for chat-created users: they get an unusable hash, never an empty one.
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(255))
    avatar_url: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(20))
    country_code: Mapped[str | None] = mapped_column(String(5), server_default=text("'IN'"))
    timezone: Mapped[str | None] = mapped_column(String(50), server_default=text("'Asia/Kolkata'"))
    language: Mapped[str | None] = mapped_column(String(10), server_default=text("'en'"))
    email_verified: Mapped[bool | None] = mapped_column(server_default=text("false"))
    phone_verified: Mapped[bool | None] = mapped_column(server_default=text("false"))
    status: Mapped[str | None] = mapped_column(String(20), server_default=text("'active'"))
    last_login_at: Mapped[datetime | None]


class EmailVerificationToken(Base):
    __tablename__ = "email_verification_tokens"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(String(255), unique=True)
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime | None] = created_at_column()


class PasswordResetToken(Base):
    __tablename__ = "password_reset_tokens"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(String(255), unique=True)
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime | None] = created_at_column()


class UserSession(Base):
    """A login session (table `sessions`; named to avoid confusion with the ORM `Session`)."""

    __tablename__ = "sessions"
    __table_args__ = (
        Index("idx_sessions_user", "user_id"),
        Index("idx_sessions_token", "token"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(String(500), unique=True)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime | None] = created_at_column()


class Organization(TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "organizations"
    __table_args__ = (
        Index("idx_orgs_slug", "slug"),
        Index("idx_orgs_owner", "owner_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(255))
    slug: Mapped[str] = mapped_column(String(255), unique=True)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    logo_url: Mapped[str | None] = mapped_column(Text)
    website: Mapped[str | None] = mapped_column(String(255))
    industry: Mapped[str | None] = mapped_column(String(100))
    company_size: Mapped[str | None] = mapped_column(String(50))
    type: Mapped[str | None] = mapped_column(String(50), server_default=text("'individual'"))
    settings: Mapped[dict[str, Any] | None] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))


class TeamMember(TimestampMixin, Base):
    __tablename__ = "team_members"
    __table_args__ = (
        UniqueConstraint("organization_id", "user_id"),
        Index("idx_team_org", "organization_id"),
        Index("idx_team_user", "user_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    organization_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(50))
    permissions: Mapped[dict[str, Any] | None] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    invited_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    invited_at: Mapped[datetime | None]
    joined_at: Mapped[datetime | None]
    status: Mapped[str | None] = mapped_column(String(20), server_default=text("'active'"))


class ClientAccount(TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "client_accounts"
    __table_args__ = (
        UniqueConstraint("organization_id", "slug"),
        Index("idx_clients_org", "organization_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    organization_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    slug: Mapped[str] = mapped_column(String(255))
    contact_email: Mapped[str | None] = mapped_column(String(255))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    logo_url: Mapped[str | None] = mapped_column(Text)
    brand_colors: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    settings: Mapped[dict[str, Any] | None] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))


class ChatIdentity(TimestampMixin, Base):
    """Who a Telegram or Slack user is in Recast, plus their conversation state."""

    __tablename__ = "chat_identities"
    __table_args__ = (
        CheckConstraint("provider IN ('telegram', 'slack')", name="provider"),
        UniqueConstraint("provider", "external_user_id"),
        Index("idx_chat_identities_user", "user_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    provider: Mapped[str] = mapped_column(String(20))
    external_user_id: Mapped[str] = mapped_column(String(64))
    # Telegram: the private chat id. Slack: the team (workspace) id.
    chat_id: Mapped[str | None] = mapped_column(String(64))
    team_id: Mapped[str | None] = mapped_column(String(64))
    username: Mapped[str | None] = mapped_column(String(255))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    state: Mapped[dict[str, Any] | None] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
