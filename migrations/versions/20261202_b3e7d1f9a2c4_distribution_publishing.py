"""Distribution: connection status, one live post per draft and account, publish attempts

`platform_connections` gets why it stopped working (status, status_reason) and when its owner was told,
plus a unique (platform, account, owner) so reconnecting updates the row. `scheduled_posts` gets a partial
unique index so a draft is scheduled on an account at most once at a time. `publish_attempts` is the
idempotency record: written before each call to the platform, so a timeout never becomes a double post.

Revision ID: b3e7d1f9a2c4
Revises: f6a1b5c9d4e3
Create Date: 2026-12-02 01:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "b3e7d1f9a2c4"
down_revision: str | None = "f6a1b5c9d4e3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "platform_connections",
        sa.Column("status", sa.String(length=20), server_default=sa.text("'active'"), nullable=False),
    )
    op.add_column("platform_connections", sa.Column("status_reason", sa.Text(), nullable=True))
    op.add_column("platform_connections", sa.Column("owner_told_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("platform_connections", sa.Column("account_kind", sa.String(length=20), nullable=True))
    op.create_index(
        "uq_platform_account_owner",
        "platform_connections",
        ["platform", "platform_user_id", "user_id", "client_account_id"],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )
    op.create_index(
        "uq_scheduled_live",
        "scheduled_posts",
        ["generated_content_id", "platform_connection_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('scheduled', 'publishing', 'held')"),
    )
    op.create_table(
        "publish_attempts",
        sa.Column("id", postgresql.UUID(as_uuid=True), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("scheduled_post_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("marker", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=20), server_default=sa.text("'sent'"), nullable=False),
        sa.Column("platform_post_id", sa.String(length=255), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["scheduled_post_id"], ["scheduled_posts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scheduled_post_id", "attempt", name="uq_publish_attempt"),
    )


def downgrade() -> None:
    op.drop_table("publish_attempts")
    op.drop_index("uq_scheduled_live", table_name="scheduled_posts")
    op.drop_index("uq_platform_account_owner", table_name="platform_connections")
    for column in ("account_kind", "owner_told_at", "status_reason", "status"):
        op.drop_column("platform_connections", column)
