"""Brand intelligence: brand profiles, voice samples (vectors live in Qdrant) and audiences."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, TimestampMixin, created_at_column, uuid_pk


class BrandProfile(TimestampMixin, Base):
    __tablename__ = "brand_profiles"
    __table_args__ = (
        Index("idx_brands_user", "user_id"),
        Index("idx_brands_org", "organization_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    organization_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    client_account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("client_accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    industry: Mapped[str | None] = mapped_column(String(100))
    target_audience: Mapped[str | None] = mapped_column(Text)
    content_goals: Mapped[list[str] | None]
    preferred_platforms: Mapped[list[str] | None]
    tone_preset: Mapped[str | None] = mapped_column(String(50))
    custom_guidelines: Mapped[str | None] = mapped_column(Text)
    sample_content_urls: Mapped[list[str] | None]


class BrandVoiceEmbedding(Base):
    __tablename__ = "brand_voice_embeddings"

    id: Mapped[uuid.UUID] = uuid_pk()
    brand_profile_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("brand_profiles.id", ondelete="CASCADE"))
    vector_db_id: Mapped[str] = mapped_column(String(255))
    sample_text: Mapped[str] = mapped_column(Text)
    embedding_model: Mapped[str | None] = mapped_column(String(100))
    # `metadata` is reserved by Declarative; the attribute is `metadata_`, the column `metadata`.
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONB)
    created_at: Mapped[datetime | None] = created_at_column()


class AudienceProfile(TimestampMixin, Base):
    __tablename__ = "audience_profiles"

    id: Mapped[uuid.UUID] = uuid_pk()
    brand_profile_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("brand_profiles.id", ondelete="CASCADE"))
    demographics: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    interests: Mapped[list[str] | None]
    pain_points: Mapped[list[str] | None]
    preferred_content_types: Mapped[list[str] | None]
    platform_habits: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
