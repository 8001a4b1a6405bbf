"""Analytics snapshots: one per owner, period and kind; client accounts as owners

A snapshot belongs to a user, an organization or one of its client accounts (new `client_account_id`, on
the archive too, so the two tables keep the same columns). The unique index (NULLS NOT DISTINCT: a user's
snapshot has no organization) makes the nightly rollup an upsert, so re-running a night changes nothing.

Revision ID: d5e9f3b7c2a8
Revises: c4d8e2a6b1f7
Create Date: 2026-12-02 05:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "d5e9f3b7c2a8"
down_revision: str | None = "c4d8e2a6b1f7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OWNER = ["user_id", "organization_id", "client_account_id", "snapshot_date", "snapshot_type"]


def upgrade() -> None:
    for table in ("analytics_snapshots", "analytics_snapshots_archive"):
        op.add_column(
            table,
            sa.Column(
                "client_account_id",
                postgresql.UUID(as_uuid=True),
                sa.ForeignKey("client_accounts.id", ondelete="CASCADE"),
                nullable=True,
            ),
        )
    op.create_index(
        "uq_snapshot_owner_period", "analytics_snapshots", OWNER, unique=True, postgresql_nulls_not_distinct=True
    )
    op.create_index(
        "uq_snapshot_archive_owner_period",
        "analytics_snapshots_archive",
        OWNER,
        unique=True,
        postgresql_nulls_not_distinct=True,
    )


def downgrade() -> None:
    op.drop_index("uq_snapshot_archive_owner_period", table_name="analytics_snapshots_archive")
    op.drop_index("uq_snapshot_owner_period", table_name="analytics_snapshots")
    for table in ("analytics_snapshots", "analytics_snapshots_archive"):
        op.drop_column(table, "client_account_id")
