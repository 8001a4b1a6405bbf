"""Analytics: the creator's stated effort per source, ROI provenance, SEO on-page checks

`content_assets` gets the hours and cost the creator says the original took (NULL = not stated: the ROI
uses the ROI_DEFAULT_HOURS x ROI_HOURLY_RATE_* defaults and says so), with the currency of that cost.
`roi_calculations` gets the currency of its money columns and `basis` (which drafts were counted, where
each input came from), so every figure shown is traceable to rows. `seo_metrics` gets the on-page checks
of a blog draft and when they were made (`collected_at` stays the time traffic was collected: NULL when
no search console is connected).

Revision ID: c7a4e9d2b5f1
Revises: d5e9f3b7c2a8
Create Date: 2026-12-02 05:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "c7a4e9d2b5f1"
down_revision: str | None = "d5e9f3b7c2a8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("content_assets", sa.Column("creator_hours", sa.Numeric(5, 2), nullable=True))
    op.add_column("content_assets", sa.Column("creator_cost", sa.Numeric(10, 2), nullable=True))
    op.add_column("content_assets", sa.Column("creator_cost_currency", sa.String(length=3), nullable=True))
    op.add_column("roi_calculations", sa.Column("currency", sa.String(length=3), nullable=True))
    op.add_column("roi_calculations", sa.Column("basis", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column("seo_metrics", sa.Column("on_page_checks", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column("seo_metrics", sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("seo_metrics", "checked_at")
    op.drop_column("seo_metrics", "on_page_checks")
    op.drop_column("roi_calculations", "basis")
    op.drop_column("roi_calculations", "currency")
    op.drop_column("content_assets", "creator_cost_currency")
    op.drop_column("content_assets", "creator_cost")
    op.drop_column("content_assets", "creator_hours")
