"""Slack approvals: installations (OAuth v2 store), workspace/channel links, approval messages, event receipts

`slack_approval_messages` lets an approval update its Slack message in place and post revisions in its
thread; `slack_event_receipts` makes Events API retries (`x-slack-retry-num`) no-ops.

Revision ID: c3d8e2f1a6b9
Revises: b7c1a9d2e4f0
Create Date: 2026-11-26 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "c3d8e2f1a6b9"
down_revision: str | None = "b7c1a9d2e4f0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slack_event_receipts",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("team_id", sa.String(length=64), nullable=True),
        sa.Column("event_type", sa.String(length=64), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_slack_event_receipts")),
    )
    op.create_table(
        "slack_installations",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column("app_id", sa.String(length=64), nullable=True),
        sa.Column("enterprise_id", sa.String(length=64), nullable=True),
        sa.Column("team_id", sa.String(length=64), nullable=True),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("is_enterprise_install", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("bot_token", sa.Text(), nullable=True),
        sa.Column("bot_user_id", sa.String(length=64), nullable=True),
        sa.Column("organization_id", sa.UUID(), nullable=True),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("installed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_slack_installations_organization_id_organizations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_installations")),
    )
    op.create_index(
        "idx_slack_installations_lookup",
        "slack_installations",
        ["client_id", "enterprise_id", "team_id", "installed_at"],
        unique=False,
    )
    op.create_table(
        "slack_workspaces",
        sa.Column("team_id", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.UUID(), nullable=False),
        sa.Column("default_channel_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_slack_workspaces_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_slack_workspaces")),
    )
    op.create_table(
        "slack_channels",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("team_id", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("client_account_id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_account_id"],
            ["client_accounts.id"],
            name=op.f("fk_slack_channels_client_account_id_client_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["slack_workspaces.team_id"],
            name=op.f("fk_slack_channels_team_id_slack_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_channels")),
        sa.UniqueConstraint("client_account_id", name=op.f("uq_slack_channels_client_account_id")),
    )
    op.create_table(
        "slack_approval_messages",
        sa.Column("approval_request_id", sa.UUID(), nullable=False),
        sa.Column("team_id", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("message_ts", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True),
        sa.ForeignKeyConstraint(
            ["approval_request_id"],
            ["approval_requests.id"],
            name=op.f("fk_slack_approval_messages_approval_request_id_approval_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("approval_request_id", name=op.f("pk_slack_approval_messages")),
    )


def downgrade() -> None:
    op.drop_table("slack_approval_messages")
    op.drop_table("slack_channels")
    op.drop_table("slack_workspaces")
    op.drop_index("idx_slack_installations_lookup", table_name="slack_installations")
    op.drop_table("slack_installations")
    op.drop_table("slack_event_receipts")
