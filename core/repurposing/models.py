"""Repurposing engine: strategies, jobs, generated drafts, templates and reusable snippets."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Numeric, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, SoftDeleteMixin, TimestampMixin, created_at_column, uuid_pk


class RepurposingStrategy(Base):
    __tablename__ = "repurposing_strategies"

    id: Mapped[uuid.UUID] = uuid_pk()
    content_asset_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("content_assets.id", ondelete="CASCADE"))
    brand_profile_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("brand_profiles.id"))
    recommended_formats: Mapped[Any] = mapped_column(JSONB, nullable=True)
    content_calendar_suggestions: Mapped[Any] = mapped_column(JSONB, nullable=True)
    estimated_output_count: Mapped[int | None]
    estimated_reach: Mapped[int | None]
    estimated_processing_time: Mapped[int | None]
    created_at: Mapped[datetime | None] = created_at_column()


class RepurposingJob(TimestampMixin, Base):
    __tablename__ = "repurposing_jobs"
    __table_args__ = (
        Index("idx_jobs_asset", "content_asset_id"),
        Index("idx_jobs_user", "user_id"),
        Index("idx_jobs_status", "status"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    content_asset_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("content_assets.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    organization_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id"))
    job_type: Mapped[str] = mapped_column(String(50))
    output_format: Mapped[str] = mapped_column(String(50))
    target_platforms: Mapped[list[str] | None]
    config: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # The seed keeps this a plain UUID (no FK): a template may be deleted after the job ran.
    template_id: Mapped[uuid.UUID | None]
    status: Mapped[str | None] = mapped_column(String(50), server_default=text("'queued'"))
    priority: Mapped[int | None] = mapped_column(server_default=text("5"))
    progress: Mapped[int | None] = mapped_column(server_default=text("0"))
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    error_message: Mapped[str | None] = mapped_column(Text)
    credits_used: Mapped[int | None] = mapped_column(server_default=text("0"))


Index("idx_jobs_status_priority", RepurposingJob.status, RepurposingJob.priority.desc())


class GeneratedContent(TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "generated_content"
    __table_args__ = (
        Index("idx_generated_job", "repurposing_job_id"),
        Index("idx_generated_user", "user_id"),
        Index("idx_generated_platform", "target_platform"),
        Index("idx_generated_asset", "content_asset_id"),  # an organization's drafts, through their sources
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    repurposing_job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("repurposing_jobs.id", ondelete="CASCADE"))
    content_asset_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("content_assets.id"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str | None] = mapped_column(String(500))
    content_text: Mapped[str | None] = mapped_column(Text)
    file_url: Mapped[str | None] = mapped_column(Text)
    thumbnail_url: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str | None] = mapped_column(String(50))
    target_platform: Mapped[str | None] = mapped_column(String(50))
    caption: Mapped[str | None] = mapped_column(Text)
    hashtags: Mapped[list[str] | None]
    cta: Mapped[str | None] = mapped_column(Text)
    duration: Mapped[int | None]
    word_count: Mapped[int | None]
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONB)
    quality_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    virality_prediction: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    is_published: Mapped[bool | None] = mapped_column(server_default=text("false"))
    published_at: Mapped[datetime | None]
    scheduled_for: Mapped[datetime | None]
    views: Mapped[int | None] = mapped_column(server_default=text("0"))
    likes: Mapped[int | None] = mapped_column(server_default=text("0"))
    comments: Mapped[int | None] = mapped_column(server_default=text("0"))
    shares: Mapped[int | None] = mapped_column(server_default=text("0"))
    engagement_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))


Index(
    "idx_generated_caption_search",
    func.to_tsvector(text("'english'"), GeneratedContent.caption),
    postgresql_using="gin",
)


class Template(TimestampMixin, Base):
    __tablename__ = "templates"
    __table_args__ = (
        Index("idx_templates_type", "template_type"),
        Index("idx_templates_public", "is_public"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    organization_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    template_type: Mapped[str] = mapped_column(String(50))
    is_public: Mapped[bool | None] = mapped_column(server_default=text("false"))
    is_premium: Mapped[bool | None] = mapped_column(server_default=text("false"))
    config: Mapped[dict[str, Any]] = mapped_column(JSONB)
    preview_url: Mapped[str | None] = mapped_column(Text)
    usage_count: Mapped[int | None] = mapped_column(server_default=text("0"))
    rating: Mapped[Decimal | None] = mapped_column(Numeric(3, 2))


class BrandTemplate(TimestampMixin, Base):
    __tablename__ = "brand_templates"

    id: Mapped[uuid.UUID] = uuid_pk()
    brand_profile_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("brand_profiles.id", ondelete="CASCADE"))
    template_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("templates.id"))
    customization: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    logo_url: Mapped[str | None] = mapped_column(Text)
    intro_video_url: Mapped[str | None] = mapped_column(Text)
    outro_video_url: Mapped[str | None] = mapped_column(Text)
    brand_colors: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    fonts: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class Hashtag(Base):
    __tablename__ = "hashtag_library"
    __table_args__ = (
        Index("idx_hashtags_user", "user_id"),
        Index("idx_hashtags_platform", "platform"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    hashtag: Mapped[str] = mapped_column(String(100))
    platform: Mapped[str | None] = mapped_column(String(50))
    category: Mapped[str | None] = mapped_column(String(100))
    performance_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    usage_count: Mapped[int | None] = mapped_column(server_default=text("0"))
    last_used_at: Mapped[datetime | None]
    created_at: Mapped[datetime | None] = created_at_column()


class CallToAction(Base):
    __tablename__ = "cta_library"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    cta_text: Mapped[str] = mapped_column(Text)
    cta_type: Mapped[str | None] = mapped_column(String(50))
    platform: Mapped[str | None] = mapped_column(String(50))
    performance_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    usage_count: Mapped[int | None] = mapped_column(server_default=text("0"))
    created_at: Mapped[datetime | None] = created_at_column()
