"""Analytics: snapshots (and their archive), engagement metrics, ROI and SEO numbers."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Numeric, String, UniqueConstraint, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from core.db.base import Base, created_at_column, uuid_pk

# A snapshot's owner (a user, an organization, or one of its client accounts) and period: one row each.
OWNER_PERIOD = ("user_id", "organization_id", "client_account_id", "snapshot_date", "snapshot_type")


class _SnapshotColumns:
    """Columns shared by `analytics_snapshots` and its archive, so the two cannot drift apart."""

    id: Mapped[uuid.UUID] = uuid_pk()

    @declared_attr
    @classmethod
    def user_id(cls) -> Mapped[uuid.UUID | None]:
        return mapped_column(ForeignKey("users.id", ondelete="CASCADE"))

    @declared_attr
    @classmethod
    def organization_id(cls) -> Mapped[uuid.UUID | None]:
        return mapped_column(ForeignKey("organizations.id"))

    @declared_attr
    @classmethod
    def client_account_id(cls) -> Mapped[uuid.UUID | None]:
        return mapped_column(ForeignKey("client_accounts.id", ondelete="CASCADE"))

    snapshot_date: Mapped[date]
    snapshot_type: Mapped[str] = mapped_column(String(50))
    total_content_created: Mapped[int | None] = mapped_column(server_default=text("0"))
    total_content_published: Mapped[int | None] = mapped_column(server_default=text("0"))
    total_views: Mapped[int | None] = mapped_column(server_default=text("0"))
    total_engagement: Mapped[int | None] = mapped_column(server_default=text("0"))
    total_reach: Mapped[int | None] = mapped_column(server_default=text("0"))
    platform_metrics: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime | None] = created_at_column()


class AnalyticsSnapshot(_SnapshotColumns, Base):
    __tablename__ = "analytics_snapshots"
    __table_args__ = (
        Index("idx_analytics_user", "user_id"),
        Index("idx_analytics_date", "snapshot_date"),
        Index("uq_snapshot_owner_period", *OWNER_PERIOD, unique=True, postgresql_nulls_not_distinct=True),
    )


class AnalyticsSnapshotArchive(_SnapshotColumns, Base):
    """Snapshots older than a year. The seed's `LIKE analytics_snapshots INCLUDING ALL` copies
    columns, defaults and indexes but not foreign keys; we keep the same FKs too, so deleting a
    user removes their archived snapshots as well (no orphaned personal data)."""

    __tablename__ = "analytics_snapshots_archive"
    __table_args__ = (
        Index("idx_analytics_archive_user", "user_id"),
        Index("idx_analytics_archive_date", "snapshot_date"),
        Index("uq_snapshot_archive_owner_period", *OWNER_PERIOD, unique=True, postgresql_nulls_not_distinct=True),
    )


class EngagementMetric(Base):
    """Per-draft, per-platform counters, collected repeatedly: the biggest table.

    Why partitioned by RANGE (collected_at): the seed plans yearly partitions; PostgreSQL then
    requires the partition key in every unique constraint, hence the primary key (id, collected_at)
    and a NOT NULL collected_at. Yearly partitions plus a DEFAULT partition are created by the SQL
    function `recast_ensure_engagement_partitions` (see `core.analytics.partitions`).
    """

    __tablename__ = "engagement_metrics"
    __table_args__ = (
        UniqueConstraint("generated_content_id", "platform", "collected_at"),
        Index("idx_metrics_content", "generated_content_id"),
        {"postgresql_partition_by": "RANGE (collected_at)"},
    )

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    generated_content_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("generated_content.id", ondelete="CASCADE")
    )
    platform: Mapped[str] = mapped_column(String(50))
    views: Mapped[int | None] = mapped_column(server_default=text("0"))
    impressions: Mapped[int | None] = mapped_column(server_default=text("0"))
    reach: Mapped[int | None] = mapped_column(server_default=text("0"))
    likes: Mapped[int | None] = mapped_column(server_default=text("0"))
    comments: Mapped[int | None] = mapped_column(server_default=text("0"))
    shares: Mapped[int | None] = mapped_column(server_default=text("0"))
    saves: Mapped[int | None] = mapped_column(server_default=text("0"))
    clicks: Mapped[int | None] = mapped_column(server_default=text("0"))
    engagement_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    ctr: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    watch_time: Mapped[int | None]
    completion_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    collected_at: Mapped[datetime] = mapped_column(primary_key=True, server_default=func.now())


class ROICalculation(Base):
    __tablename__ = "roi_calculations"

    id: Mapped[uuid.UUID] = uuid_pk()
    content_asset_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("content_assets.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    original_content_time_hours: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    original_content_cost: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    repurposed_pieces_count: Mapped[int | None]
    total_reach: Mapped[int | None]
    total_engagement: Mapped[int | None]
    roi_multiplier: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    cost_per_engagement: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    value_score: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    # Not in the design (migration c7a4e9d2b5f1): the currency of the money columns, and where every
    # figure came from (draft ids counted, stated or default inputs, the rates used).
    currency: Mapped[str | None] = mapped_column(String(3))
    basis: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    calculated_at: Mapped[datetime | None] = mapped_column(server_default=func.now())


class SEOMetric(Base):
    __tablename__ = "seo_metrics"

    id: Mapped[uuid.UUID] = uuid_pk()
    generated_content_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("generated_content.id", ondelete="CASCADE")
    )
    target_keywords: Mapped[list[str] | None]
    keyword_rankings: Mapped[Any] = mapped_column(JSONB, nullable=True)
    organic_traffic: Mapped[int | None] = mapped_column(server_default=text("0"))
    backlinks_count: Mapped[int | None] = mapped_column(server_default=text("0"))
    domain_authority_impact: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    # When traffic/rankings were collected from a search console; NULL while none is connected.
    collected_at: Mapped[datetime | None] = mapped_column(server_default=func.now())
    # Not in the design (migration c7a4e9d2b5f1): the blog draft's on-page checks and when they were made.
    on_page_checks: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    checked_at: Mapped[datetime | None]
