"""Distribution: a ledger of platform API quota units per project and day

`platform_quota_usage` holds the units of a platform project's daily quota taken so far (YouTube: per
Google Cloud project, per Pacific-time day, per bucket: the shared units and videos.insert's own). Each
metered call reserves its units first with one conditional upsert, so two workers can't both take the last.

Revision ID: c4d8e2a6f1b9
Revises: b3e7d1f9a2c4
Create Date: 2026-12-02 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c4d8e2a6f1b9"
down_revision: str | None = "b3e7d1f9a2c4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "platform_quota_usage",
        sa.Column("platform", sa.Text(), nullable=False),
        sa.Column("project", sa.Text(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("units", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("platform", "project", "day", name=op.f("pk_platform_quota_usage")),
    )
    op.execute(
        "CREATE TRIGGER trg_platform_quota_usage_updated_at BEFORE UPDATE ON platform_quota_usage "
        "FOR EACH ROW EXECUTE FUNCTION recast_set_updated_at()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS trg_platform_quota_usage_updated_at ON platform_quota_usage")
    op.drop_table("platform_quota_usage")
