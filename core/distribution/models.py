"""Distribution: platform connections (OAuth), scheduled posts and content calendars."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, SmallInteger, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, TimestampMixin, created_at_column, uuid_pk


class ConnectionStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"  # the platform said 401 / the owner revoked the app: reconnect needed
    REFRESH_FAILED = "refresh_failed"  # the refresh token was refused: reconnect needed
    DISCONNECTED = "disconnected"  # the owner disconnected it; tokens deleted


class PostStatus(StrEnum):
    SCHEDULED = "scheduled"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    HELD = "held"  # waiting for its connection to be reconnected (or a quota to lift); not failed
    FAILED = "failed"
    CANCELLED = "cancelled"


class AttemptOutcome(StrEnum):
    SENT = "sent"  # recorded before the call: if the worker dies now, the next attempt checks the platform
    PUBLISHED = "published"
    FAILED = "failed"  # the platform refused it: nothing was created
    UNKNOWN = "unknown"  # a timeout or 5xx after sending: the post may exist


class PlatformConnection(TimestampMixin, Base):
    __tablename__ = "platform_connections"
    __table_args__ = (
        Index("idx_platforms_user", "user_id"),
        Index("idx_platforms_org", "organization_id"),
        # Reconnecting the same account for the same owner updates its row (several accounts per platform
        # are still allowed: they have different platform_user_ids).
        Index(
            "uq_platform_account_owner",
            "platform",
            "platform_user_id",
            "user_id",
            "client_account_id",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    organization_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id"))
    client_account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("client_accounts.id"))
    platform: Mapped[str] = mapped_column(String(50))
    platform_user_id: Mapped[str | None] = mapped_column(String(255))
    platform_username: Mapped[str | None] = mapped_column(String(255))
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str | None] = mapped_column(Text)
    token_expires_at: Mapped[datetime | None]
    scopes: Mapped[list[str] | None]
    is_active: Mapped[bool | None] = mapped_column(server_default=text("true"))
    last_used_at: Mapped[datetime | None]
    # Recast's additions: why a connection stopped working, and whether the owner was told.
    status: Mapped[str] = mapped_column(String(20), server_default=text("'active'"))
    status_reason: Mapped[str | None] = mapped_column(Text)
    owner_told_at: Mapped[datetime | None]
    account_kind: Mapped[str | None] = mapped_column(String(20))  # member | organization (LinkedIn pages)
    # When collection found the token lacks the insights permission and told the owner (once): the
    # connection's posts are not collected until it is reconnected, which clears it.
    insights_blocked_at: Mapped[datetime | None]


class ScheduledPost(TimestampMixin, Base):
    __tablename__ = "scheduled_posts"
    __table_args__ = (
        Index("idx_scheduled_content", "generated_content_id"),
        Index("idx_scheduled_user", "user_id"),
        Index("idx_scheduled_time", "scheduled_for"),
        Index("idx_scheduled_upcoming", "scheduled_for", postgresql_where=text("status = 'scheduled'")),
        # One live post per draft and account: scheduling it twice (a double tap) finds the first.
        Index(
            "uq_scheduled_live",
            "generated_content_id",
            "platform_connection_id",
            unique=True,
            postgresql_where=text("status IN ('scheduled', 'publishing', 'held')"),
        ),
        Index("idx_scheduled_metrics_due", "metrics_due_at", postgresql_where=text("metrics_due_at IS NOT NULL")),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    generated_content_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("generated_content.id", ondelete="CASCADE")
    )
    platform_connection_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("platform_connections.id", ondelete="CASCADE")
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(50))
    scheduled_for: Mapped[datetime]
    timezone: Mapped[str | None] = mapped_column(String(50))
    is_ai_optimized: Mapped[bool | None] = mapped_column(server_default=text("false"))
    optimal_time_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    status: Mapped[str | None] = mapped_column(String(50), server_default=text("'scheduled'"))
    published_at: Mapped[datetime | None]
    platform_post_id: Mapped[str | None] = mapped_column(String(255))
    platform_post_url: Mapped[str | None] = mapped_column(Text)
    post_caption: Mapped[str | None] = mapped_column(Text)
    post_hashtags: Mapped[list[str] | None]
    post_metadata: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    retry_count: Mapped[int | None] = mapped_column(server_default=text("0"))
    max_retries: Mapped[int | None] = mapped_column(server_default=text("3"))
    error_message: Mapped[str | None] = mapped_column(Text)
    # Analytics: collections done since publishing, and when the next is due (NULL: none).
    metrics_stage: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    metrics_due_at: Mapped[datetime | None]


class PublishAttempt(Base):
    """One try at publishing a scheduled post, recorded before the platform is called (the idempotency
    record): an attempt left `sent` or `unknown` means the next one must first ask the platform whether the
    post already exists."""

    __tablename__ = "publish_attempts"
    __table_args__ = (UniqueConstraint("scheduled_post_id", "attempt", name="uq_publish_attempt"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    scheduled_post_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("scheduled_posts.id", ondelete="CASCADE"))
    attempt: Mapped[int]
    marker: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(20), server_default=text("'sent'"))
    platform_post_id: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = created_at_column()
    finished_at: Mapped[datetime | None]


class ContentCalendar(TimestampMixin, Base):
    __tablename__ = "content_calendars"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    organization_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id"))
    client_account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("client_accounts.id"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    start_date: Mapped[date]
    end_date: Mapped[date]
    is_ai_generated: Mapped[bool | None] = mapped_column(server_default=text("false"))
    ai_strategy: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class CalendarEntry(Base):
    __tablename__ = "calendar_entries"
    __table_args__ = (
        CheckConstraint("status IN ('suggested', 'accepted', 'dismissed')", name="status"),
        Index("idx_calendar_entries_calendar_status", "calendar_id", "status"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    calendar_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("content_calendars.id", ondelete="CASCADE"))
    generated_content_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("generated_content.id"))
    scheduled_date: Mapped[date]
    scheduled_time: Mapped[time | None]
    platform: Mapped[str | None] = mapped_column(String(50))
    notes: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str] | None]
    created_at: Mapped[datetime | None] = created_at_column()
    # Recast's: the creator's decision on the slot and the post it became (core.distribution.calendar).
    status: Mapped[str] = mapped_column(String(20), server_default=text("'suggested'"))
    scheduled_post_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("scheduled_posts.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]


class PlatformQuotaUsage(Base):
    """Units of a platform project's daily API quota taken so far (YouTube: per Google project and
    Pacific-time day). Reserved before each metered call by a conditional upsert (`core.distribution.quotas`)."""

    __tablename__ = "platform_quota_usage"

    platform: Mapped[str] = mapped_column(Text, primary_key=True)  # the quota bucket, e.g. youtube.uploads
    project: Mapped[str] = mapped_column(Text, primary_key=True)  # YouTube: the Google OAuth client id
    day: Mapped[date] = mapped_column(primary_key=True)
    units: Mapped[int] = mapped_column(server_default=text("0"))
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"))


class PlatformChangeReceipt(Base):
    """A platform change already counted (a comment's or reaction's add or remove, by the platform's object
    id): Meta may send the same change again in another delivery, and it must move the counters once."""

    __tablename__ = "platform_change_receipts"

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    object_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    change_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    received_at: Mapped[datetime | None] = created_at_column()
