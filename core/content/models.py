"""Content: original uploads and their AI analysis."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Numeric, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, SoftDeleteMixin, TimestampMixin, uuid_pk


class ContentAsset(TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "content_assets"
    __table_args__ = (
        Index("idx_assets_user", "user_id"),
        Index("idx_assets_org", "organization_id"),
        Index("idx_assets_type", "content_type"),
        Index("idx_assets_status", "upload_status"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    organization_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    client_account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("client_accounts.id", ondelete="CASCADE"))
    brand_profile_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("brand_profiles.id"))
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(50))
    file_url: Mapped[str] = mapped_column(Text)
    thumbnail_url: Mapped[str | None] = mapped_column(Text)
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    duration: Mapped[int | None]
    mime_type: Mapped[str | None] = mapped_column(String(100))
    source_platform: Mapped[str | None] = mapped_column(String(50))
    source_url: Mapped[str | None] = mapped_column(Text)
    upload_status: Mapped[str | None] = mapped_column(String(50), server_default=text("'pending'"))
    processing_started_at: Mapped[datetime | None]
    processing_completed_at: Mapped[datetime | None]
    processing_error: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONB)
    tags: Mapped[list[str] | None]
    # Not in the design: what the creator says the original took (NULL = not stated; the ROI then uses the
    # ROI_DEFAULT_HOURS x ROI_HOURLY_RATE_* defaults and says so). Migration c7a4e9d2b5f1.
    creator_hours: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    creator_cost: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    creator_cost_currency: Mapped[str | None] = mapped_column(String(3))


Index("idx_content_user_created", ContentAsset.user_id, ContentAsset.created_at.desc())
Index(
    "idx_content_title_search",
    func.to_tsvector(text("'english'"), ContentAsset.title),
    postgresql_using="gin",
)


class ContentAnalysis(Base):
    __tablename__ = "content_analysis"
    __table_args__ = (Index("idx_analysis_asset", "content_asset_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    content_asset_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("content_assets.id", ondelete="CASCADE"))
    transcript: Mapped[str | None] = mapped_column(Text)
    transcript_language: Mapped[str | None] = mapped_column(String(10))
    transcript_confidence: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    topics: Mapped[list[str] | None]
    keywords: Mapped[list[str] | None]
    entities: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    sentiment_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    emotion_analysis: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    virality_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    repurposing_value: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    seo_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    engagement_potential: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    hook_moments: Mapped[Any] = mapped_column(JSONB, nullable=True)
    key_insights: Mapped[list[str] | None]
    quotable_moments: Mapped[Any] = mapped_column(JSONB, nullable=True)
    platform_scores: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    analyzed_at: Mapped[datetime | None] = mapped_column(server_default=func.now())
    analysis_model: Mapped[str | None] = mapped_column(String(100))
